"""Cross-check tl_loop's AWS credential chain against botocore's on the same files and env.

botocore is not a tl_loop dependency; run in a scratch venv that has it and tl_loop's own:

    python -m venv /tmp/xc && /tmp/xc/bin/pip install botocore httpx pydantic tenacity \
        cachetools anyio lingua-language-detector pyyaml markdownify langcodes
    PYTHONPATH=src /tmp/xc/bin/python scripts/crosscheck/aws_chain.py

Each scenario runs both resolvers in a fresh subprocess whose environment is exactly the
scenario's (files written to a temporary folder, the container endpoint and IMDS served on
127.0.0.1); it prints the access key id and region each one found, or its error class.
"None" from botocore (no credentials) and an error from tl_loop count as the same outcome.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROBE = r"""
import json, os, sys
out = {}
try:
    import botocore.session
    s = botocore.session.Session()
    c = s.get_credentials()
    out["botocore"] = (c.get_frozen_credentials().access_key if c else None,
                       s.get_config_variable("region"), c.method if c else None)
except Exception as e:
    out["botocore"] = ("error", type(e).__name__)
try:
    from tl_loop.engines._aws_credentials import resolve_aws_credentials, resolve_aws_region
    p = resolve_aws_credentials()
    out["tl_loop"] = (p.get().access_key_id, resolve_aws_region(), p.source.split(" ")[0])
except Exception as e:
    out["tl_loop"] = ("error", type(e).__name__)
print(json.dumps(out))
"""

PROCESS = """import json, sys
if sys.argv[1] == "--version-2":
    print(json.dumps({"Version": 2}))
else:
    answer = {"Version": 1, "AccessKeyId": sys.argv[1], "SecretAccessKey": "x"}
    if len(sys.argv) > 2:
        answer |= {"SessionToken": "t", "Expiration": sys.argv[2]}
    print(json.dumps(answer))
"""

CREDS = """[default]
aws_access_key_id = AKIDCREDDEFAULT
aws_secret_access_key = s1

[work]
AWS_ACCESS_KEY_ID = AKIDCREDWORK
aws_secret_access_key = s2

[proc]
credential_process = {python} {folder}/process.py ASIAPROCCRED

[half]
aws_access_key_id = AKIDHALF

[comment]
aws_access_key_id = AKIDCOMMENT # trailing
aws_secret_access_key = s3
"""

CONFIG = """[default]
region = us-east-2

[profile work]
region = ap-south-1
aws_access_key_id = AKIDCONFIGWORK
aws_secret_access_key = s

[profile onlyconfig]
aws_access_key_id = AKIDCONFIGONLY
aws_secret_access_key = s
region = sa-east-1

[profile procconf]
credential_process = {python} {folder}/process.py ASIAPROCCONF 2099-01-01T00:00:00Z

[profile badversion]
credential_process = {python} {folder}/process.py --version-2

[onlyprofilesection]
aws_access_key_id = AKIDNOTAPROFILE
aws_secret_access_key = s
"""


def imds_server() -> str:
    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self._send(200, "tok")

        def do_GET(self) -> None:
            role = "/latest/meta-data/iam/security-credentials/"
            if self.path == "/creds":
                return self._send(
                    200,
                    json.dumps(
                        {
                            "AccessKeyId": "ASIACONTAINER",
                            "SecretAccessKey": "x",
                            "Token": "t",
                            "Expiration": "2099-01-01T00:00:00Z",
                        }
                    ),
                )
            if self.headers.get("x-aws-ec2-metadata-token") != "tok":
                return self._send(401, "")
            if self.path == role:
                return self._send(200, "r")
            if self.path == role + "r":
                return self._send(
                    200,
                    json.dumps(
                        {
                            "Code": "Success",
                            "AccessKeyId": "ASIAIMDS",
                            "SecretAccessKey": "x",
                            "Token": "t",
                            "Expiration": "2099-01-01T00:00:00Z",
                        }
                    ),
                )
            if self.path == "/creds":
                return self._send(
                    200,
                    json.dumps(
                        {
                            "AccessKeyId": "ASIACONTAINER",
                            "SecretAccessKey": "x",
                            "Token": "t",
                            "Expiration": "2099-01-01T00:00:00Z",
                        }
                    ),
                )
            self._send(404, "")

        def _send(self, status: int, body: str) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main() -> int:
    folder = Path(tempfile.mkdtemp())
    (folder / "process.py").write_text(PROCESS)
    (folder / "credentials").write_text(CREDS.format(python=sys.executable, folder=folder))
    (folder / "config").write_text(CONFIG.format(python=sys.executable, folder=folder))
    (folder / "empty").write_text("")
    url = imds_server()
    files = {
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "credentials"),
        "AWS_CONFIG_FILE": str(folder / "config"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    none = {
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "empty"),
        "AWS_CONFIG_FILE": str(folder / "empty"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    keys = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"}
    scenarios = {
        "env keys": {**none, **keys},
        "env keys + AWS_PROFILE=work": {**files, **keys, "AWS_PROFILE": "work"},
        "credentials file [default]": files,
        "AWS_PROFILE=work (both files)": {**files, "AWS_PROFILE": "work"},
        "config-only profile": {**files, "AWS_PROFILE": "onlyconfig"},
        "credential_process in credentials file": {**files, "AWS_PROFILE": "proc"},
        "credential_process in config": {**files, "AWS_PROFILE": "procconf"},
        "credential_process Version 2": {**files, "AWS_PROFILE": "badversion"},
        "AWS_DEFAULT_PROFILE beats AWS_PROFILE": {
            **files,
            "AWS_PROFILE": "work",
            "AWS_DEFAULT_PROFILE": "onlyconfig",
        },
        "AWS_DEFAULT_REGION beats config": {**files, "AWS_DEFAULT_REGION": "eu-west-3"},
        "unknown profile": {**files, "AWS_PROFILE": "nope"},
        "section without 'profile '": {**files, "AWS_PROFILE": "onlyprofilesection"},
        "half a key in the file": {**files, "AWS_PROFILE": "half"},
        "inline '#' stays in the value": {**files, "AWS_PROFILE": "comment"},
        "container FULL_URI": {**none, "AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/creds"},
        "IMDSv2": {
            **none,
            "AWS_EC2_METADATA_DISABLED": "false",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": url + "/",
        },
        "nothing at all": none,
    }
    agree = 0
    for name, env in scenarios.items():
        env = {
            **env,
            "PATH": os.environ["PATH"],
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            "HOME": str(folder),
        }
        done = subprocess.run(
            [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
        )
        result = json.loads(done.stdout or "{}") if done.returncode == 0 else {"crash": done.stderr}
        b, t = result.get("botocore"), result.get("tl_loop")
        # botocore finds "no credentials" (None) where tl_loop raises: the same outcome
        found_b = b[0] if b and b[0] not in ("error", None) else "none"
        found_t = t[0] if t and t[0] != "error" else "none"
        same = b is not None and t is not None and found_b == found_t
        if found_b != "none" and found_t != "none" and b[1] != t[1]:
            same = False
        agree += same
        print(f"{'same' if same else 'DIFF'}  {name:42} botocore={b}  tl_loop={t}")
    print(f"{agree}/{len(scenarios)} scenarios agree")
    return 0 if agree == len(scenarios) else 1


if __name__ == "__main__":
    sys.exit(main())
