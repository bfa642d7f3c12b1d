"""Answer ids: the documented shape, never repeated, and a forked worker draws its own."""

from __future__ import annotations

import os
import re

from mockserver.ids import new_id


def test_an_id_is_its_prefix_and_twice_as_many_hex_digits_as_bytes():
    for prefix, nbytes in (("chatcmpl-", 16), ("msg_", 12), ("resp_", 24)):
        assert re.fullmatch(rf"{prefix}[0-9a-f]{{{2 * nbytes}}}", new_id(prefix, nbytes))


def test_ids_do_not_repeat():
    assert len({new_id("chatcmpl-", 16) for _ in range(100_000)}) == 100_000


def test_a_forked_child_draws_other_ids_than_its_parent():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.write(write, " ".join(new_id("x", 16) for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = set(os.read(read, 4096).decode().split())
    os.close(read)
    parent = {new_id("x", 16) for _ in range(3)}
    assert len(child) == 3 and not child & parent
