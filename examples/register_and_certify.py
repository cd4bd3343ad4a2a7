#!/usr/bin/env python3
"""Register devices with the oneforone API, wait for the certificate, download its PDF.

Standard library only. Usage:

    export ONEFORONE_API_KEY=o4o_...              # a read and write key from the portal
    python examples/register_and_certify.py --base-url https://registry.example \\
        --reference INV-2026-00042 --category phone \\
        --imei 490154203237518 --serial C02XK1ABJG5H --out certificate.pdf

or `--quantity 250` instead of listing devices. The request carries an Idempotency-Key made once
per run, so the script may retry after a network error or a 5xx without registering twice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

RETRIES = 5


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        problems = "; ".join(
            f"{e.get('field') or ''} {e.get('message')}".strip() for e in body.get("errors", [])
        )
        super().__init__(f"{status} {body.get('code')}: {body.get('message')} {problems}".strip())
        self.status = status
        self.body = body


class Client:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.api_key = api_key

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One API call, retried on network errors, 409 in progress, 429 and 5xx; the same
        Idempotency-Key on every try makes a retried POST safe."""
        headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        for attempt in range(RETRIES):
            request = urllib.request.Request(  # noqa: S310 (the URL is the user's own choice)
                self.base + path, data=data, method=method, headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                    return response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as error:
                payload = error.read()
                retryable = error.code in (409, 429) or error.code >= 500
                in_progress = error.code == 409 and b"idempotency_key_in_use" in payload
                if retryable and (error.code != 409 or in_progress) and attempt < RETRIES - 1:
                    time.sleep(int(error.headers.get("Retry-After", 2**attempt)))
                    continue
                try:
                    raise ApiError(error.code, json.loads(payload)) from None
                except ValueError:
                    raise ApiError(error.code, {"message": payload[:200].decode()}) from None
            except urllib.error.URLError:
                if attempt == RETRIES - 1:
                    raise
                time.sleep(2**attempt)
        raise RuntimeError("unreachable")

    def json(self, method: str, path: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        _, _, content = self.request(method, path, body, **kw)
        return json.loads(content)


def register(client: Client, registration: dict[str, Any]) -> dict[str, Any]:
    """Register once, whatever the retries: the Idempotency-Key is made once per call here."""
    result: dict[str, Any] = client.json(
        "POST", "/registrations", registration, idempotency_key=str(uuid.uuid4())
    )
    return result


def wait_for_certificate(
    client: Client, registration_id: int, *, timeout: float, interval: float = 60
) -> str | None:
    """The certificate code once the registration is compensated, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        registration = client.json("GET", f"/registrations/{registration_id}")
        if registration["certificate"]:
            return str(registration["certificate"])
        if time.monotonic() + interval > deadline:
            return None
        time.sleep(interval)


def download_certificate(client: Client, code: str, path: str) -> int:
    _, _, pdf = client.request("GET", f"/certificates/{code}/pdf")
    with open(path, "wb") as out:
        out.write(pdf)
    return len(pdf)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url", default=os.environ.get("ONEFORONE_URL", "http://localhost:8000")
    )
    parser.add_argument("--reference", required=True, help="your own reference, e.g. an invoice")
    parser.add_argument("--category", default="phone")
    parser.add_argument("--quantity", type=int)
    parser.add_argument("--imei", action="append", default=[], help="repeat for each device")
    parser.add_argument("--serial", action="append", default=[], help="for a device without IMEI")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the certificate")
    parser.add_argument("--interval", type=float, default=60, help="seconds between polls")
    parser.add_argument("--out", default="certificate.pdf")
    args = parser.parse_args(argv)
    api_key = os.environ.get("ONEFORONE_API_KEY")
    if not api_key:
        parser.error("set ONEFORONE_API_KEY to a read and write key from the partner portal")

    body: dict[str, Any] = {"reference": args.reference, "category": args.category}
    devices = [{"imei": i} for i in args.imei] + [{"serial": s} for s in args.serial]
    if devices:
        body["devices"] = devices
    if args.quantity:
        body["quantity"] = args.quantity
    client = Client(args.base_url, api_key)
    try:
        registration = register(client, body)
        print(
            f"registered {registration['reference']} (id {registration['id']}): "
            f"{registration['units_owed']} unit(s) owed, "
            f"{registration['devices_already_compensated']} device(s) already compensated"
        )
        code = wait_for_certificate(
            client, registration["id"], timeout=args.wait, interval=args.interval
        )
        if code is None:
            print("not compensated yet; run again later with --wait, or use webhooks")
            return 0
        size = download_certificate(client, code, args.out)
        print(f"certificate {code}: {size:,} bytes written to {args.out}")
    except ApiError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
