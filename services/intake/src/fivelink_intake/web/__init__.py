"""Server-rendered pages at ``/ui/`` for social workers, charities and station supervisors.

``router`` is included by ``fivelink_intake.app``; everything else it needs it builds on
first use (``web.context``). See docs/web.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from fivelink_intake.web import charity, pages, supervisor, worker

router = APIRouter(prefix="/ui", include_in_schema=False)
router.include_router(pages.router)
router.include_router(worker.router)
router.include_router(charity.router)
router.include_router(supervisor.router)

__all__ = ["router"]
