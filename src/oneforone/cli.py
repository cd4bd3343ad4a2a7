"""The `oneforone` command: demo, serve, worker, plus every Django management command."""

from __future__ import annotations

import argparse
import os
import sys
import threading


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oneforone.settings")
    command = argv[0] if argv else "help"
    if command == "demo":
        demo(argv[1:])
    elif command == "serve":
        serve(argv[1:])
    elif command == "worker":
        _django(["db_worker", *argv[1:]])
    elif command in ("help", "-h", "--help"):
        print(__doc__)
        print("  oneforone demo [--port 8000] [--reset]   demo data set, served with a worker")
        print("  oneforone serve [--host H] [--port P]    the web application (waitress)")
        print("  oneforone worker                         run background tasks")
        print("  oneforone allocate | verify-audit | migrate | createsuperuser | ...  (Django)")
    else:
        _django([command.replace("-", "_"), *argv[1:]])


def _django(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["oneforone", *argv])


def _serve_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"oneforone {prog}")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--threads", type=int, default=8)
    return parser


def serve(argv: list[str], *, with_worker: bool = False) -> None:
    args = _serve_parser("serve").parse_args(argv)
    _run_server(args.host, args.port, args.threads, with_worker=with_worker)


def demo(argv: list[str]) -> None:
    parser = _serve_parser("demo")
    parser.add_argument("--reset", action="store_true", help="drop the demo database first")
    parser.add_argument("--no-serve", action="store_true", help="load the data and exit")
    args = parser.parse_args(argv)
    if args.reset and not os.environ.get("DATABASE_URL"):
        from oneforone import embedded_db

        embedded_db.drop_database(os.environ.get("ONEFORONE_DB_NAME", "oneforone"))
    base_url = f"http://{args.host}:{args.port}"
    os.environ.setdefault("PUBLIC_BASE_URL", base_url)  # QR codes point at this demo
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from oneforone import demo as demo_data

    summary = demo_data.load_if_empty(base_url=base_url)
    print(summary)
    if not args.no_serve:
        _run_server(args.host, args.port, args.threads, with_worker=True)


def _run_server(host: str, port: int, threads: int, *, with_worker: bool) -> None:
    import django

    django.setup()
    from waitress import serve as waitress_serve

    from oneforone.wsgi import application

    if with_worker:
        threading.Thread(target=_worker_loop, name="tasks-worker", daemon=True).start()
    print(f"Serving oneforone at http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    waitress_serve(application, host=host, port=port, threads=threads, ident="oneforone")


def _worker_loop() -> None:
    """The demo's in-process worker (no signal handlers: those belong to the main thread)."""
    import secrets

    from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=[DEFAULT_TASK_QUEUE_NAME],
        interval=1,
        batch=False,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=f"demo-{secrets.token_hex(8)}",
        excluded_queue_names=[],
    ).run()
