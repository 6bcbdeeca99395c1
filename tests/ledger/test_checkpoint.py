"""C2SP tlog-checkpoint text: printing, parsing, and rejecting everything non-canonical."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from affidavit.errors import IntegrityError
from affidavit.ledger.checkpoint import MAX_SIZE, Checkpoint
from affidavit.ledger.rfc6962 import EMPTY_ROOT

ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()

# The example in the spec (c2sp.org/tlog-checkpoint), signature lines removed.
SPEC_EXAMPLE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_spec_example() -> None:
    cp = Checkpoint.parse(SPEC_EXAMPLE)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == ()
    assert cp.to_text() == SPEC_EXAMPLE


def test_to_text() -> None:
    cp = Checkpoint("log.example/a", 0, EMPTY_ROOT, ("ext one", "ext two"))
    text = cp.to_text()
    assert text == (
        f"log.example/a\n0\n{base64.b64encode(EMPTY_ROOT).decode()}\next one\next two\n"
    )
    assert Checkpoint.parse(text) == cp


_line = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FFF), min_size=1)


@given(
    origin=_line,
    size=st.integers(0, MAX_SIZE),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(_line, max_size=3).map(tuple),
)
def test_round_trip(origin: str, size: int, root: bytes, extensions: tuple[str, ...]) -> None:
    cp = Checkpoint(origin, size, root, extensions)
    assert Checkpoint.parse(cp.to_text()) == cp


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        f"origin\n1\n{ROOT_B64}",  # no final newline
        "origin\n1\n",  # too few lines
        f"\n1\n{ROOT_B64}\n",  # empty origin
        f"origin\n01\n{ROOT_B64}\n",  # leading zero
        f"origin\n00\n{ROOT_B64}\n",
        f"origin\n+1\n{ROOT_B64}\n",
        f"origin\n-1\n{ROOT_B64}\n",
        f"origin\n1_0\n{ROOT_B64}\n",
        f"origin\n 1\n{ROOT_B64}\n",
        f"origin\n\u0661\n{ROOT_B64}\n",  # Arabic-Indic digit one
        f"origin\n{MAX_SIZE + 1}\n{ROOT_B64}\n",
        f"origin\n{'9' * 5000}\n{ROOT_B64}\n",
        f"origin\n\n{ROOT_B64}\n",
        "origin\n1\nnot base64!\n",
        f"origin\n1\n{ROOT_B64[:-1]}\n",  # bad padding
        f"origin\n1\n{ROOT_B64.rstrip('=')}\n",  # no padding
        f"origin\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31 bytes
        f"origin\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",  # 33 bytes
        f"origin\n1\n{ROOT_B64[:-2]}B=\n",  # non-canonical trailing bits
        f"origin\n1\n{ROOT_B64}\n\n",  # empty extension line
        f"origin\n1\n{ROOT_B64}\next\n\nmore\n",
        f"ori\rgin\n1\n{ROOT_B64}\n",  # control character
        f"origin\r\n1\r\n{ROOT_B64}\r\n",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(IntegrityError):
        Checkpoint.parse(text)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        ("origin", -1, ROOT, ()),
        ("origin", MAX_SIZE + 1, ROOT, ()),
        ("origin", 1, ROOT[:31], ()),
        ("origin", 1, ROOT, ("",)),
        ("origin", 1, ROOT, ("a\nb",)),
    ],
)
def test_constructor_validates(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(IntegrityError):
        Checkpoint(origin, size, root, extensions)
