"""``python -m fivelink_matcher --port 8001``."""

from fivelink_matcher.app import build_app
from fivelink_shared.service import serve

if __name__ == "__main__":
    serve("matcher", build_app, 8001)
