#!/usr/bin/env bash
# Verify Stoplight Prism as a stand-in for Twilio's webhook-configuration APIs.
#
# Serves, with Prism (@stoplight/prism-cli, from the npm registry):
#   prism-twilio  Twilio's own OpenAPI for these paths (twilio-oai, vendored in
#                 tests/data/reference/): one Prism per server, Conversations and Chat;
#   prism-ours    the bundled fragments, exported with `webhook-contracts spec`;
# and runs `webhook-contracts verify` against both and against our reference mock,
# with a fixed seed and one worker (--workers auto would follow Prism's round trip, so the
# matrix would depend on the machine), writing the conformance matrix (markdown and JSON) and a few
# hand probes that docs/prism-matrix.md cites.
#
# Usage:  examples/verify-prism.sh [--update-docs] [OUTPUT_DIR]
#   OUTPUT_DIR     default build/prism-verify
#   --update-docs  also replace the generated section of docs/prism-matrix.md
#
# Needs Node.js >= 18 with npm (registry access the first time only) and Python >= 3.10.
# Environment (all optional):
#   PRISM_VERSION  default 5.16.0 (the version docs/prism-matrix.md was made with)
#   PRISM_HOME     where Prism is installed, default ${XDG_CACHE_HOME:-~/.cache}/twilio-webhook-contracts/prism-$PRISM_VERSION
#                  (tests/test_prism.py uses it from there when present; it never installs it)
#   SEED           default 1;  MAX_EXAMPLES  default 50
#
# Exit status: 0 when the matrix was written (whatever it shows: Prism is expected to
# differ from Twilio), non-zero when something could not be set up or run.
set -euo pipefail

update_docs=0
if [[ "${1:-}" == "--update-docs" ]]; then update_docs=1; shift; fi
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/build/prism-verify}"
mkdir -p "$out/logs"
out="$(cd "$out" && pwd)"

PRISM_VERSION="${PRISM_VERSION:-5.16.0}"
PRISM_HOME="${PRISM_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/twilio-webhook-contracts/prism-$PRISM_VERSION}"
SEED="${SEED:-1}"
MAX_EXAMPLES="${MAX_EXAMPLES:-50}"
prism="$PRISM_HOME/node_modules/.bin/prism"

# -- the toolkit: the repository's virtual environment, created if missing ---------------
if [[ ! -x "$root/.venv/bin/webhook-contracts" ]]; then
  echo "== creating $root/.venv with the project installed"
  python3 -m venv "$root/.venv"
  "$root/.venv/bin/pip" install -q -e "$root"
fi
wc="$root/.venv/bin/webhook-contracts"
py="$root/.venv/bin/python"

# -- Prism, pinned, installed once into a cache directory ---------------------------------
if [[ ! -x "$prism" ]]; then
  command -v npm >/dev/null || { echo "verify-prism: npm (Node.js >= 18) is needed to install Prism" >&2; exit 2; }
  echo "== installing @stoplight/prism-cli@$PRISM_VERSION into $PRISM_HOME"
  mkdir -p "$PRISM_HOME"
  npm install --prefix "$PRISM_HOME" --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$PRISM_VERSION"
fi
echo "== prism $("$prism" --version)"

# -- the documents ---------------------------------------------------------------------
"$wc" spec --format yaml --output "$out/ours"
reference="$root/tests/data/reference"

# -- four Prism servers on 127.0.0.1, always stopped on exit -----------------------------
read -r p1 p2 p3 p4 < <("$py" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()
EOF
)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM
serve() {  # name port document
  "$prism" mock --host 127.0.0.1 --port "$2" "$3" >"$out/logs/$1.log" 2>&1 &
  pids+=("$!")
}
serve twilio-conversations "$p1" "$reference/conversations_v1_webhooks.json"
serve twilio-chat "$p2" "$reference/chat_v2_channel_webhooks.json"
serve ours-conversations "$p3" "$out/ours/conversations_v1.yaml"
serve ours-chat "$p4" "$out/ours/chat_v2.yaml"
"$py" - "$p1" "$p2" "$p3" "$p4" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + 120
for port in map(int, sys.argv[1:]):
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"verify-prism: Prism did not start listening on port {port} (see the logs)")
            time.sleep(0.5)
EOF
echo "== Prism is serving on ports $p1 $p2 (Twilio's spec) and $p3 $p4 (ours)"

# -- the matrix --------------------------------------------------------------------------
# Any credentials do for Prism (it checks that an Authorization header is there, not what
# it says); an account sid that is not Twilio's example one shows which answers echo it.
export TWILIO_ACCOUNT_SID="AC0123456789abcdef0123456789abcdef"
export TWILIO_AUTH_TOKEN="prism-does-not-check-this-token"
unset TWILIO_API_KEY TWILIO_API_SECRET
set +e
"$wc" verify \
  "prism-twilio=http://127.0.0.1:$p1,http://127.0.0.1:$p2" \
  "prism-ours=http://127.0.0.1:$p3,http://127.0.0.1:$p4" \
  mock \
  --seed "$SEED" --max-examples "$MAX_EXAMPLES" --workers 1 --database none \
  --service-sid IS00000000000000000000000000000001 --channel-sid CH00000000000000000000000000000001 \
  --report-markdown "$out/matrix.md" --report-json "$out/matrix.json" --junitxml "$out/matrix.xml" \
  | tee "$out/verify.log"
status=${PIPESTATUS[0]}
set -e
if [[ "$status" -gt 1 ]]; then
  echo "verify-prism: webhook-contracts verify ended with status $status" >&2
  exit "$status"
fi

# -- hand probes the explanation cites ---------------------------------------------------
"$py" - "$p1" "$p3" "$p4" >"$out/probes.txt" <<'EOF'
import base64, sys, urllib.error, urllib.request
twilio, ours, ours_chat = sys.argv[1:]
auth = "Basic " + base64.b64encode(b"AC0123456789abcdef0123456789abcdef:wrong-secret").decode()

def probe(title, port, method, path, body=None, headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                     headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, head, data = answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        status, head, data = error.code, error.headers, error.read()
    shown = {k: v for k, v in head.items() if k.lower() in ("content-type", "retry-after", "www-authenticate")}
    print(f"## {title}\n{method} {path} {body.decode() if body else ''}\n-> {status} {shown}\n   {data[:300].decode(errors='replace')}\n")

conf, svc = "/v1/Configuration/Webhooks", "/v1/Services/ISbad/Configuration/Webhooks"
probe("Twilio's spec: no credentials", twilio, "GET", conf)
probe("Twilio's spec: wrong secret", twilio, "GET", conf, headers={"Authorization": auth})
probe("Ours: wrong secret", ours, "GET", conf, headers={"Authorization": auth})
probe("Twilio's spec: repeated form keys (twilio-python's encoding)", twilio, "POST", conf,
      b"Filters=onMessageAdded&Filters=onUserAdded", {"Authorization": auth})
probe("Twilio's spec: bracketed keys (not what Twilio reads)", twilio, "POST", conf,
      b"Filters%5B%5D=onMessageAdded", {"Authorization": auth})
probe("Ours (encoding explicit): repeated form keys", ours, "POST", conf,
      b"Filters=onMessageAdded&Filters=onUserAdded", {"Authorization": auth})
probe("Ours: an invalid Target", ours, "POST", conf, b"Target=sms", {"Authorization": auth})
probe("Twilio's spec: malformed service sid", twilio, "GET", svc, headers={"Authorization": auth})
probe("Ours: a 429 on request (Prefer: code=429)", ours, "GET", conf, headers={"Authorization": auth, "Prefer": "code=429"})
probe("Twilio's spec: a 429 on request", twilio, "GET", conf, headers={"Authorization": auth, "Prefer": "code=429"})
probe("Ours: unsupported method", ours, "PUT", conf, headers={"Authorization": auth})
probe("Ours: a channel by unique name", ours_chat, "GET",
      "/v2/Services/IS00000000000000000000000000000001/Channels/support-room/Webhooks", headers={"Authorization": auth})
EOF

if [[ "$update_docs" == 1 ]]; then
  "$py" "$root/examples/prism_matrix_doc.py" "$out/matrix.md" "$root/docs/prism-matrix.md" "$PRISM_VERSION"
fi
echo "== matrix: $out/matrix.md ($out/matrix.json, $out/matrix.xml); probes: $out/probes.txt; verify exit status $status"
