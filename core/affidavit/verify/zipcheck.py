"""A zip with exactly one reading: what ``verify package`` checks before it believes a member.

Zip readers disagree about which central directory a file means when it holds more than one
(Python's ``zipfile`` prefers a ZIP64 end record it finds before the plain one; Info-ZIP's
``unzip`` follows the plain one), so a file can show one package to the verifier and another
to the auditor who unzips it. A package is therefore refused unless every byte is accounted
for: members tiling the file from offset 0, each local header naming its member as the central
directory does, then the one central directory, then (only when the plain end record needs
it) the ZIP64 end record and locator, then the plain end record, with no comment. Every reader
then finds the same members with the same bytes.
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO

from affidavit.errors import IntegrityError

__all__ = ["check_single_reading"]

_LOCAL = b"PK\x03\x04"
_END = b"PK\x05\x06"
_END64 = b"PK\x06\x06"
_LOCATOR = b"PK\x06\x07"


def _fail(where: str, why: str) -> IntegrityError:
    return IntegrityError(f"package {where}: {why}; a zip must have exactly one reading")


def _directory(fh: BinaryIO, size: int, where: str) -> tuple[int, int, int]:
    """``(entries, directory offset, directory end)`` from the end records at the file's end."""
    tail_at = max(size - 98, 0)  # plain end record, ZIP64 locator and ZIP64 end record
    fh.seek(tail_at)
    tail = fh.read()

    def at(offset: int, length: int) -> bytes:
        return tail[offset - tail_at:offset - tail_at + length] if offset >= tail_at else b""

    data = tail
    if size < 22 or data[-22:-18] != _END:
        raise _fail(where, "its end record is not at the end of the file (a comment or "
                           "trailing bytes)")
    disk, disk_cd, on_disk, total, cd_size, cd_offset, comment = struct.unpack(
        "<HHHHIIH", data[-18:])
    if comment or disk or disk_cd or on_disk != total:
        raise _fail(where, "its end record has a comment or spans disks")
    end = size - 22
    if 0xFFFF in (total, on_disk) or 0xFFFFFFFF in (cd_size, cd_offset):
        locator = end - 20
        if locator < 0 or at(locator, 4) != _LOCATOR:
            raise _fail(where, "its end record needs a ZIP64 locator it does not have")
        _, record_at, disks = struct.unpack("<IQI", at(locator + 4, 16))
        if disks != 1 or record_at + 56 != locator or at(record_at, 4) != _END64:
            raise _fail(where, "its ZIP64 end record is not right before its locator")
        length, = struct.unpack("<Q", at(record_at + 4, 8))
        fields = struct.unpack("<QQQQ", at(record_at + 24, 32))
        on_disk, total, cd_size, cd_offset = fields
        if length != 44 or on_disk != total:
            raise _fail(where, "its ZIP64 end record has extensible data or spans disks")
        end = record_at
    elif end >= 20 and at(end - 20, 4) == _LOCATOR:
        raise _fail(where, "it holds a ZIP64 locator its end record does not need")
    if cd_offset + cd_size != end:
        raise _fail(where, "bytes lie between its central directory and its end record")
    return total, cd_offset, end


def check_single_reading(fh: BinaryIO, zf: zipfile.ZipFile, where: str) -> None:
    """Raise :class:`IntegrityError` unless ``zf`` (opened on the file ``fh``) has one
    reading. Reads only the headers, whatever the size of the members."""
    fh.seek(0, 2)
    total, cd_offset, _ = _directory(fh, fh.tell(), where)
    infos = zf.infolist()
    if len(infos) != total or getattr(zf, "start_dir", cd_offset) != cd_offset:
        raise _fail(where, "its central directory is not the one its end record names")
    at = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        fh.seek(at)
        header = fh.read(30)
        if info.header_offset != at or header[:4] != _LOCAL or len(header) < 30:
            raise _fail(where, f"bytes lie before member {info.filename!r}")
        flags, method, crc, csize, usize, name_len, extra_len = struct.unpack(
            "<xxHHxxxxIIIHH", header[4:30])
        name = fh.read(name_len)
        expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        if name != expected or method != info.compress_type or flags & 0x08:
            raise _fail(where, f"the local header of {info.filename!r} names another member "
                               "or defers its sizes")
        if csize != 0xFFFFFFFF and (
                csize != info.compress_size or usize != info.file_size or crc != info.CRC):
            raise _fail(where, f"the local header of {info.filename!r} gives other sizes")
        at += 30 + name_len + extra_len + info.compress_size
    if at != cd_offset:
        raise _fail(where, "bytes lie between its last member and its central directory")
