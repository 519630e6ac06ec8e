"""Entry point of creditctl: global options, the command tree, and the mapping of failures to exit codes."""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import click
import grpc

from creditctl import commands
from creditctl.connection import DEFAULT_ADDRESSES, Node, Tls
from creditctl.context import Ctl
from creditctl.errors import EXIT_OK, EXIT_USAGE, CtlError, classify, error_json
from creditctl.output import Output, json_text

# A day: long enough for any call (a model publication re-evaluates every enterprise in minutes).
MAX_TIMEOUT_SECONDS = 86400.0


def _not_finite(param: click.Parameter) -> float:
    raise click.BadParameter("must be a number of seconds", param=param)


def _address(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():
        # grpc makes no channel for an empty target and answers UNKNOWN, which would read as the node refusing.
        raise click.BadParameter("must be host:port", ctx=ctx, param=param)
    return value


def _address_option(service: str) -> click.Option:
    env = f"{service.upper()}_ADDR"
    return click.Option(
        [f"--{service}"],
        envvar=env,
        default=DEFAULT_ADDRESSES[service],
        callback=_address,
        show_default=True,
        help=f"{service} address host:port (env {env}).",
    )


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    params=[_address_option(s) for s in DEFAULT_ADDRESSES],
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of tables.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or notes on stderr.")
@click.option(
    "--timeout",
    # NaN passes any range check, and grpc fails a call at once on a deadline it cannot represent (inf, 1e300):
    # DEADLINE_EXCEEDED, exit 3, "a change may have been made", for a call never sent.
    type=click.FloatRange(min=0.1, max=MAX_TIMEOUT_SECONDS),
    callback=lambda ctx, param, value: value if math.isfinite(value) else _not_finite(param),
    default=30.0,
    show_default=True,
    help="Seconds per call.",
)
@click.option("--ca", type=click.Path(path_type=Path, dir_okay=False), envvar="CREDITCTL_CA", help="Node CA (TLS on).")
@click.option("--cert", type=click.Path(path_type=Path, dir_okay=False), envvar="CREDITCTL_CERT", help="Client cert.")
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False), envvar="CREDITCTL_KEY", help="Client key.")
@click.option("--server-name", envvar="CREDITCTL_SERVER_NAME", help="TLS name to verify (through a port-forward).")
@click.pass_context
def cli(
    ctx: click.Context,
    /,
    as_json: bool,
    quiet: bool,
    timeout: float,
    ca: Path | None,
    cert: Path | None,
    key: Path | None,
    server_name: str | None,
    **addresses: str,
) -> None:
    """Operate the Shaanxi provincial node: onboarding, certificates, sharing list, coverage and supervision.

    Exit codes: 0 ok, 1 refused by the node (reason printed), 2 usage error, 3 node unreachable or no answer in
    time (--timeout). With --json a failure is one JSON object on stderr: {"error": {"code", "reason", "message",
    "metadata", "exit_code"}}.
    """
    if ca is None and (cert is not None or key is not None or server_name is not None):
        # Without --ca the channels are plaintext: refuse rather than quietly ignore the TLS options.
        raise click.UsageError("--cert/--key/--server-name need --ca (TLS)")
    tls = Tls(ca=ca, cert=cert, key=key, server_name=server_name) if ca is not None else None
    ctx.obj = Ctl(
        node=Node(addresses=dict(addresses), tls=tls, timeout=timeout), out=Output(as_json=as_json, quiet=quiet)
    )
    ctx.call_on_close(ctx.obj.node.close)


commands.register(cli)


def _wants_json(args: list[str]) -> bool:
    """Whether ``--json`` is among the global options, read before the command runs: a usage error must be reported
    in JSON too, though the command line never reached the command."""
    try:
        with cli.make_context("creditctl", list(args), resilient_parsing=True) as ctx:
            return bool(ctx.params.get("as_json"))
    except Exception:  # a command line even resilient parsing gives up on
        return "--json" in args


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line and return its exit code (what ``main`` exits with)."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(args)
    try:
        cli.main(args=args, prog_name="creditctl", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except (click.ClickException, click.exceptions.Abort, CtlError, grpc.RpcError) as exc:
        return _report(exc, as_json, sys.stderr)
    return EXIT_OK


def _as_ctl_error(exc: Exception) -> CtlError:
    if isinstance(exc, CtlError):
        return exc
    if isinstance(exc, click.ClickException):
        return CtlError(exc.format_message(), exc.exit_code)  # UsageError is 2
    if isinstance(exc, grpc.RpcError):  # a call made outside Ctl.call; still classified
        failure = classify(exc)
        return CtlError(failure.describe("the node"), failure.exit_code, failure.code, failure.reason, failure.metadata)
    return CtlError("aborted", EXIT_USAGE)  # click's Abort


def _report(exc: Exception, as_json: bool, err: TextIO) -> int:
    """Say what failed, on stderr (stdout holds results only): with ``--json`` as one object, otherwise for people."""
    failure = _as_ctl_error(exc)
    if as_json:
        data = error_json(failure.message, failure.exit_code, failure.code, failure.reason, failure.metadata)
        err.write(json_text(data, err) + "\n")
    elif isinstance(exc, click.ClickException):
        exc.show(file=err)  # with the usage line
    else:
        err.write(f"error: {failure.message}\n" if isinstance(exc, CtlError | grpc.RpcError) else "aborted\n")
    return failure.exit_code


def main() -> None:
    # A terminal whose encoding has no Chinese (latin-1, a C locale) gets \u escapes for what it cannot show, rather
    # than a UnicodeEncodeError traceback in place of the answer (JSON is escaped as JSON: ``json_text``).
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    sys.exit(run())
