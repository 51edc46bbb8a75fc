"""An S3-compatible server on 127.0.0.1: moto in server mode, as a subprocess of ours.

`env` holds the standard AWS variables that point boto3 (and partita) at it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from .common import free_port, stop, wait_for_port

BUCKET = "partita-tests"


class S3Server:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="partita-s3-"))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "partita-test",
            "AWS_SECRET_ACCESS_KEY": "partita-test-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        log = self.folder / "moto.log"
        with open(log, "wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
            )
        try:
            wait_for_port(self.port, self.process, "the S3 server (moto)", log)
            self.client().create_bucket(Bucket=BUCKET)
        except BaseException:
            self.stop()
            raise

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_DEFAULT_REGION"],
        )

    def new_prefix(self) -> str:
        """A URL of a fresh, empty warehouse in the bucket."""
        return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"

    def stop(self) -> None:
        stop(self.process, signal.SIGTERM)
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
