"""``nenscope serve`` (the web service) and ``nenscope users add`` (accounts).

Both take ``--data-dir`` (or ``NENSCOPE_DATA_DIR``) and ``--db``; the service holds no logic
here: the options become :class:`~nenscope.web.settings.ServiceSettings`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError
from nenscope.core.safe_yaml import MAX_UPLOAD_BYTES

DEFAULT_MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // 1024**2
"""``--max-upload-mb`` default: the product's one upload cap (core/safe_yaml)."""

__all__ = ["serve_command", "users_add_command"]

DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: $NENSCOPE_DATA_DIR)."),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Database URL, e.g. postgresql+psycopg://user@host/db."),
]

users_app = typer.Typer(help="Manage service accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


class ServeError(WorkbenchError, RuntimeError):
    """The service cannot start as configured."""


@users_app.command("add")
def users_add_command(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="admin, physician, technologist or researcher.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    data_dir: DataDirOpt = None,
    db: DbOpt = None,
) -> None:
    """Create an account (the password is read from stdin, never from the command line)."""
    from nenscope.store.accounts import create_user  # the service extra is imported only here
    from nenscope.store.db import Store, resolve_data_dir

    if not password_stdin:
        raise ServeError("Give the password on standard input with --password-stdin.")
    password = sys.stdin.readline().rstrip("\r\n")
    store = Store(resolve_data_dir(data_dir), db)
    try:
        with store.session() as session:
            user = create_user(session, name, role=role, password=password)
            typer.echo(f"Created {user.role} {user.username!r}.")
    finally:
        store.close()


@app.command("serve")
def serve_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
    data_dir: DataDirOpt = None,
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    pacs: Annotated[
        list[str] | None,
        typer.Option("--pacs", help="NAME=URL of a PACS node; repeatable."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Analyses run at once.")] = 2,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark cookies Secure (behind a TLS reverse proxy).")
    ] = False,
    max_upload_mb: Annotated[
        int, typer.Option(help="Largest upload, MiB.")
    ] = DEFAULT_MAX_UPLOAD_MB,
    scp_port: Annotated[
        int | None, typer.Option(help="Storage SCP port (PACS/modalities push studies).")
    ] = None,
    scp_aet: Annotated[str, typer.Option(help="AE title of the Storage SCP.")] = "NENSCOPE",
) -> None:
    """Serve the web app and the JSON API (OpenAPI at /docs); refuses to start with no admin."""
    import uvicorn  # the service extra is imported only here

    from nenscope.pacs.nodes import load_nodes
    from nenscope.pacs.scp import load_rules
    from nenscope.store.accounts import has_admin
    from nenscope.store.db import Store, resolve_data_dir
    from nenscope.web.app import create_app
    from nenscope.web.settings import ServiceSettings

    folder = resolve_data_dir(data_dir)
    store = Store(folder, db)
    try:
        with store.session() as session:
            admin = has_admin(session)
    finally:
        store.close()
    if not admin:
        raise ServeError(
            "No admin account: create one first with `nenscope users add NAME --role admin "
            f"--password-stdin --data-dir {folder}`."
        )
    settings = ServiceSettings(
        data_dir=folder,
        db_url=db,
        pacs=load_nodes(folder, pacs or ()),
        workers=workers,
        secure_cookies=secure_cookies,
        max_upload_bytes=max_upload_mb * 1024**2,
        scp_port=scp_port,
        scp_aet=scp_aet,
        queue_rules=load_rules(folder),
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
