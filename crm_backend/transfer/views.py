import io
from tempfile import SpooledTemporaryFile
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.core.errors import Unprocessable
from crm_backend.transfer import service

router = APIRouter(tags=["import and export"])
Entity = Literal["customers", "products", "orders"]
SPOOL_BYTES = 5_000_000  # bigger uploads go to a temporary file, not memory


@router.get("/export/{entity}.csv", dependencies=[require(Permission.data_export)],
            response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}},
                             "description": "The columns that import reads"}})
def export(entity: Entity, session: SessionDep):
    return StreamingResponse(service.export_csv(session, entity), media_type="text/csv",
                             headers={"Content-Disposition":
                                      f'attachment; filename="{entity}.csv"'})


@router.post("/import/{entity}", dependencies=[require(Permission.data_import)],
             responses={200: {"description": "Imported (or validated, with dry_run)"},
                        422: {"description": "Rows were rejected; nothing was written"}},
             openapi_extra={"requestBody": {"content": {
                 "text/csv": {"schema": {"type": "string"}},
                 "multipart/form-data": {"schema": {
                     "type": "object", "properties": {"file": {"type": "string",
                                                               "format": "binary"}}}}}}})
async def import_(entity: Entity, request: Request, session: SessionDep,
                  dry_run: Annotated[bool, Query(description="Validate only")] = False):
    """Import a CSV file (raw `text/csv` body or multipart `file`). All rows or none are
    written; the report lists every rejected line with its errors."""
    with SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise Unprocessable("Send the CSV in a multipart field named 'file'.")
            while chunk := await upload.read(1 << 20):
                spool.write(chunk)
        else:
            async for chunk in request.stream():
                spool.write(chunk)
        spool.seek(0)
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
        try:
            report = await run_in_threadpool(service.import_csv, session, entity, text,
                                             dry_run=dry_run)
        except UnicodeDecodeError:
            raise Unprocessable("The file is not UTF-8 text.") from None
        finally:
            text.detach()
    return JSONResponse(report, status_code=422 if report["rejected_count"] else 200)
