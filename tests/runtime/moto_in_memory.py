"""moto's S3 server, keeping objects in memory and answering a range request without copying the
whole object first. moto 5.2 reads and copies the whole object for every range request; boto3
downloads (the server's, in the streamed download) in 8 MiB ranges, so a 1 GiB object cost 128
whole copies, about 90 s on this machine, which real S3 does not spend. Same bytes, same API.

``python -m tests.runtime.moto_in_memory -H 127.0.0.1 -p PORT`` (harness.moto_server(module=...)).
"""

from __future__ import annotations

import io
import os
import sys

#: Objects up to this size stay in memory (moto's default spills anything above 5 MiB to disk).
os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(4 * 2**30))

import moto.s3.models
from moto.server import main

_value = moto.s3.models.FakeKey.value


def _shared_value(self) -> bytes:
    """The object's bytes: BytesIO.getvalue() shares its buffer instead of copying it."""
    buffer = getattr(self._value_buffer, "_file", None)
    if isinstance(buffer, io.BytesIO):
        with self.lock:
            return buffer.getvalue()
    return _value.fget(self)


moto.s3.models.FakeKey.value = property(_shared_value, _value.fset)

if __name__ == "__main__":
    main(sys.argv[1:])
