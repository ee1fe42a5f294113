"""The reading process of a large import (see ``_FileImport._read_beside`` in the importer).

Started by the importing process (with its interpreter, its flags and its copy of this
package first on ``sys.path``), which holds the database's write lock: it reads a pickled
``ReadJob`` from stdin, reads and checks the file as the importer would in its own process,
and writes pickled chunks of rows, then the ``ReadResult`` (or the ``ReviewerError`` that
stopped it) to stdout. It writes nothing to the database. Anything else that goes wrong ends
it with a message on stderr, which the importing process turns into one error line.
"""

from __future__ import annotations

import pickle
import signal
import sys

from reviewer.core.importer import read_for
from reviewer.core.model import ReviewerError


def main() -> None:
    # Ctrl-C reaches the whole process group: the importing process stops this one itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout.buffer

    def emit(item: object) -> None:
        pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()  # each chunk can be written while the next is read

    job = pickle.load(sys.stdin.buffer)
    try:
        read_for(job, emit)
    except ReviewerError as exc:
        try:  # as it is, when it comes back whole (not every error class does)
            pickle.loads(pickle.dumps(exc))
        except Exception:
            exc = ReviewerError(str(exc))
        emit(exc)


if __name__ == "__main__":
    main()
