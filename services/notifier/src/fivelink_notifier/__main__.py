"""``python -m fivelink_notifier --port 8002``."""

from fivelink_notifier.app import build_app
from fivelink_shared.service import serve

if __name__ == "__main__":
    serve("notifier", build_app, 8002)
