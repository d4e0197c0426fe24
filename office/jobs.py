"""Upload jobs: an inspector's store file is saved under a generated name and pushed into the office
store by :func:`qamtu.probe.push.push` (the same code and guarantees as ``qamtu db push``: chains
verified, idempotent, conflicts listed) in a worker thread; the page polls the job's JSON status.
Jobs live in the process's memory (one worker); the audit log keeps the outcome."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

CHUNK = 1 << 20
#: seconds a finished job stays visible
KEEP_S = 86400
SQLITE_MAGIC = b"SQLite format 3\x00"


async def start_push(office, upload, *, by: str, role: str) -> dict[str, Any]:
    """Save ``upload`` (a Starlette UploadFile) and start pushing it; returns the job."""
    from .errors import OfficeError

    folder = office.work_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    job_id = secrets.token_hex(8)
    path = folder / f"{job_id}.db"           # never the client's file name
    size = 0
    with open(path, "wb") as fh:
        while chunk := await upload.read(CHUNK):
            if size == 0 and not chunk.startswith(SQLITE_MAGIC):
                fh.close()
                path.unlink(missing_ok=True)
                raise OfficeError("store: not a Qamtu store file (SQLite) from an inspector's laptop")
            size += len(chunk)
            fh.write(chunk)
    job = {"id": job_id, "by": by, "state": "queued", "bytes": size, "sessions_done": 0, "records_done": 0,
           "records_total": 0, "session": None, "report": None, "error": None, "started": time.time()}
    now = time.time()
    stale = [k for k, j in office.jobs.items() if j["state"] in ("done", "failed") and now - j["started"] > KEEP_S]
    for k in stale:                         # finished jobs are kept a day for their pages, then dropped
        office.jobs.pop(k, None)
    office.jobs[job_id] = job
    threading.Thread(target=_run, args=(office, job, path, role), daemon=True, name=f"push-{job_id}").start()
    return job


def _run(office, job: dict[str, Any], path, role: str) -> None:
    from .. import QamtuError
    from ..probe.push import push
    from ..probe.store import SampleStore
    from ..store import open_store
    from . import auth

    job["state"] = "running"

    def progress(session_id: str, done: int, total: int) -> None:
        job.update(session=session_id, records_done=done, records_total=total)

    try:
        with open_store(path, read_only=True) as source:
            report = push(SampleStore(source), SampleStore(office.store), progress=progress).as_dict()
        report.pop("source", None)
        report.pop("target", None)
        job.update(state="done", report=report)
        auth.audit(office.store, job["by"], role, "store_uploaded", job["id"],
                   {"added": report["added"], "skipped": report["skipped"], "rejected": report["rejected"],
                    "sessions": len(report["sessions"])})
    except QamtuError as exc:
        job.update(state="failed", error=str(exc))
        auth.audit(office.store, job["by"], role, "store_upload_failed", job["id"], {"error": type(exc).__name__})
    except Exception as exc:  # a bug: logged by type, the person sees a plain message
        import logging

        logging.getLogger("qamtu.office").error("upload job %s failed: %s", job["id"], type(exc).__name__)
        job.update(state="failed", error="internal error (logged)")
    finally:
        path.unlink(missing_ok=True)
