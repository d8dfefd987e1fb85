"""``webhook-contracts mock``: run the stateful reference mock until Ctrl-C or SIGTERM.

No credentials or network are needed: by default the mock accepts the
documented test credentials (printed at start-up). Credentials passed in are
never printed back.
"""

from __future__ import annotations

import argparse

_DESCRIPTION = (
    "Serve a stateful stand-in for Twilio's webhook-configuration APIs (Conversations v1 "
    "configuration, Chat v2 channel webhooks) that enforces the bundled fragments. "
    "Point a client at it by rewriting https://conversations.twilio.com and "
    "https://chat.twilio.com to the printed URL."
)


def register(subparsers) -> None:
    parser = subparsers.add_parser("mock", help="run the stateful reference mock server", description=_DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8080, help="port to listen on; 0 picks a free one (default 8080)")
    parser.add_argument("--request-log", metavar="PATH", help="append every request as a JSON line to PATH")
    creds = parser.add_argument_group("credentials (default: the documented test credentials, printed at start-up)")
    creds.add_argument("--account-sid", metavar="AC...", help="account SID to accept (with --auth-token)")
    creds.add_argument("--auth-token", metavar="TOKEN",
                       help="auth token of --account-sid (never printed); default: $TWILIO_AUTH_TOKEN, "
                            "which keeps it out of process lists")
    creds.add_argument("--api-key-sid", metavar="SK...", help="API key SID to accept, acting for the account (with --api-key-secret)")
    creds.add_argument("--api-key-secret", metavar="SECRET",
                       help="secret of --api-key-sid (never printed); default: $TWILIO_API_SECRET")
    behaviour = parser.add_argument_group("policies (the mock's choice where a correct Twilio server may choose)")
    behaviour.add_argument("--policy", action="append", default=[], metavar="NAME=VALUE",
                           help="choose at one open point; repeatable (see the README's policy list)")
    behaviour.add_argument("--fingerprint", metavar="FILE.json",
                           help="set the policies to the choices recorded by `webhook-contracts fingerprint` "
                                "(--policy still overrides)")
    behaviour.add_argument("--resource", action="append", default=[], metavar="IS...[/CH...|/NAME]",
                           help="a service or channel that exists under --policy parents=declared; repeatable")
    faults = parser.add_argument_group("fault injection (off by default; a faulted request changes nothing)")
    faults.add_argument("--latency", type=_non_negative_float, default=0.0, metavar="SECONDS",
                        help="add this delay to every request")
    faults.add_argument("--rate-limit-every", type=_non_negative_int, default=0, metavar="N",
                        help="answer every N-th request 429 with Retry-After")
    faults.add_argument("--rate-limit-probability", type=_probability, default=0.0, metavar="P",
                        help="answer this share of requests (0..1) 429")
    faults.add_argument("--retry-after", type=_non_negative_int, default=1, metavar="SECONDS",
                        help="Retry-After of a 429 (default 1)")
    faults.add_argument("--error-rate", type=_probability, default=0.0, metavar="P",
                        help="answer this share of requests (0..1) with a server error")
    faults.add_argument("--error-status", type=int, choices=(500, 503), action="append", metavar="{500,503}",
                        help="server error status to use; repeat for both (default: both)")
    faults.add_argument("--seed", type=int, help="random seed, for reproducible faults")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from ..cli import UsageError
    from ..mock import Faults, MockApp, MockServer, Policies, PolicyError, RequestLog, Resources
    from ..mock.auth import DEFAULT_AUTH_TOKEN

    credentials = _credentials(args)
    try:
        policies = Policies.from_pairs([*_recorded(args), *args.policy])
        resources = Resources.parse(args.resource)
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    if resources and policies.parents != "declared":
        raise UsageError("--resource declares what exists under --policy parents=declared; add that policy")
    try:
        faults = Faults(latency=args.latency, rate_limit_every=args.rate_limit_every,
                        rate_limit_probability=args.rate_limit_probability, retry_after=args.retry_after,
                        error_rate=args.error_rate, error_statuses=tuple(args.error_status or (500, 503)),
                        seed=args.seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        request_log = RequestLog(path=args.request_log)
    except OSError as exc:
        raise UsageError(f"cannot open request log {args.request_log}: {exc.strerror or exc}") from None
    try:
        app = MockApp(credentials=credentials, faults=faults, request_log=request_log, policies=policies,
                      resources=resources)
        try:
            server = MockServer(app, args.host, args.port)
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None

        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            server.start()
            _announce(server.url, credentials, args, faults, default_token=DEFAULT_AUTH_TOKEN)
            if policies.changed() or resources:
                declared = ", ".join(sorted(resources.services | {"/".join(c) for c in resources.channels}))
                print(f"  policies: {policies.describe()}" + (f"; resources: {declared}" if resources else ""),
                      flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            server.stop()
        print("webhook-contracts mock: stopped", flush=True)
        return 0
    finally:
        request_log.close()


def _credentials(args: argparse.Namespace):
    """The accounts/keys to accept: the defaults, or exactly what was given (a lone key joins the default account)."""
    import re

    import os

    from ..cli import UsageError
    from ..mock.auth import DEFAULT_ACCOUNT_SID, Credentials
    from ..spec import default_spec

    # Secrets from the environment (TWILIO_AUTH_TOKEN, TWILIO_API_SECRET) when the SID is given
    # without one: an argv secret shows up in `ps`. The variables are read only then, so that a
    # developer's real token in the environment never becomes the mock's by accident.
    if args.account_sid is not None and args.auth_token is None and os.environ.get("TWILIO_AUTH_TOKEN"):
        args.auth_token = os.environ["TWILIO_AUTH_TOKEN"]
        args.auth_token_from_env = True
    if args.api_key_sid is not None and args.api_key_secret is None and os.environ.get("TWILIO_API_SECRET"):
        args.api_key_secret = os.environ["TWILIO_API_SECRET"]
    if (args.account_sid is None) != (args.auth_token is None):
        raise UsageError("--account-sid and --auth-token go together (the token may come from $TWILIO_AUTH_TOKEN)")
    if (args.api_key_sid is None) != (args.api_key_secret is None):
        raise UsageError("--api-key-sid and --api-key-secret go together (the secret may come from $TWILIO_API_SECRET)")
    account_pattern = default_spec().documents["conversations"]["components"]["schemas"]["AccountSid"]["pattern"]
    if args.account_sid is not None and not re.match(account_pattern, args.account_sid):
        raise UsageError(f"--account-sid must be AC followed by 32 hexadecimal digits, not {args.account_sid!r}")
    if args.api_key_sid is not None and not re.fullmatch(r"SK[0-9a-fA-F]{32}", args.api_key_sid):
        raise UsageError(f"--api-key-sid must be SK followed by 32 hexadecimal digits, not {args.api_key_sid!r}")
    for name in ("auth_token", "api_key_secret"):
        if getattr(args, name) == "":
            raise UsageError(f"--{name.replace('_', '-')} must not be empty")
    if args.account_sid is None and args.api_key_sid is None:
        return Credentials()
    accounts = {args.account_sid: args.auth_token} if args.account_sid else Credentials().accounts
    account = args.account_sid or DEFAULT_ACCOUNT_SID
    keys = {args.api_key_sid: (args.api_key_secret, account)} if args.api_key_sid else {}
    return Credentials(accounts, keys)


def _announce(url: str, credentials, args: argparse.Namespace, faults, default_token: str) -> None:
    """Where to connect and as whom; a secret is shown only if it is a documented default."""
    account, token = next(iter(credentials.accounts.items()))
    shown_token = ("(from $TWILIO_AUTH_TOKEN)" if getattr(args, "auth_token_from_env", False)
                   else "(the one given with --auth-token)" if args.auth_token else token)
    lines = [
        f"webhook-contracts mock: listening on {url}  (Ctrl-C to stop)",
        f"  account SID {account}  auth token {shown_token}",
    ]
    for key_sid, (secret, _) in credentials.api_keys.items():
        shown_secret = "(the one given with --api-key-secret)" if args.api_key_secret else secret
        lines.append(f"  API key SID {key_sid}  secret {shown_secret}")
    if token == default_token:
        lines.append("  (well-known test credentials; pass --account-sid/--auth-token to choose your own)")
    lines.append(f"  try: curl -u {account}:{'$TWILIO_AUTH_TOKEN' if args.auth_token else token} "
                 f"{url}/v1/Configuration/Webhooks")
    if faults.enabled:
        lines.append(f"  faults: {_describe(faults)}")
    if args.request_log:
        lines.append(f"  request log: {args.request_log}")
    print("\n".join(lines), flush=True)


def _describe(faults) -> str:
    parts = []
    if faults.latency:
        parts.append(f"+{faults.latency:g}s latency")
    if faults.rate_limit_every:
        parts.append(f"429 every {faults.rate_limit_every} requests")
    if faults.rate_limit_probability:
        parts.append(f"429 with probability {faults.rate_limit_probability:g}")
    if faults.error_rate:
        parts.append(f"{'/'.join(map(str, faults.error_statuses))} with probability {faults.error_rate:g}")
    if faults.seed is not None:
        parts.append(f"seed {faults.seed}")
    return ", ".join(parts)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text}")
    return value


def _probability(text: str) -> float:
    value = _non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _recorded(args: argparse.Namespace) -> list[str]:
    """``NAME=VALUE`` for each choice the ``--fingerprint`` file recorded (none without the option)."""
    if not getattr(args, "fingerprint", None):
        return []
    from ..cli import UsageError
    from ..fingerprint import FingerprintError, load, policy_pairs

    try:
        return policy_pairs(load(args.fingerprint))
    except FingerprintError as exc:
        raise UsageError(str(exc)) from None
