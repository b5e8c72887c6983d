"""``python -m fivelink_intake --port 8000``."""

from fivelink_intake.app import build_app
from fivelink_shared.service import serve

if __name__ == "__main__":
    serve("intake", build_app, 8000)
