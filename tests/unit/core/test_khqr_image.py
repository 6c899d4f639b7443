"""The KHQR code image read back by an independent QR decoder (ZXing's C++ reader): what a bank app's camera
gets from the PNG is the invoice's payload, byte for byte, CRC included."""

from __future__ import annotations

import struct
import zlib

import pytest

from jobs_core.khqr import Merchant, khqr_for, qr_png
from jobs_core.model import Currency
from jobs_core.pricing import Money
from tests.unit.core.test_khqr import crc_ok, decode

zxingcpp = pytest.importorskip("zxingcpp")  # a dev dependency; a wheel with no system library to install

MERCHANT = Merchant("bongpheak@aclb", "Bong Pheak", "Phnom Penh")


def grey_pixels(png: bytes) -> tuple[bytes, int, int]:
    """A greyscale PNG (any bit depth of 1–8, no interlace: what segno writes) as one byte per pixel."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    at, data, header = 8, b"", b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            data += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert colour == 0 and interlace == 0 and depth in (1, 2, 4, 8)
    raw = zlib.decompress(data)
    stride = (width * depth + 7) // 8
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        for i in range(stride):  # the PNG filters; with bytes per pixel 1 for depths up to 8
            left, up = line[i - 1] if i else 0, previous[i]
            upper_left = previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upper_left)) & 0xFF
        previous = line
        per_byte, top = 8 // depth, (1 << depth) - 1
        rows.append(
            bytes(((line[x // per_byte] >> (8 - depth * (x % per_byte + 1))) & top) * 255 // top for x in range(width))
        )
    return b"".join(rows), width, height


@pytest.mark.parametrize("money", [Money(Currency.USD, 500), Money(Currency.KHR, 20000)])
def test_the_qr_image_decodes_back_to_the_invoice_payload(money: Money) -> None:
    code = khqr_for(MERCHANT, money, "BP-1A2B3C4D")
    pixels, width, height = grey_pixels(qr_png(code.payload, scale=4))
    [found] = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    assert found.text == code.payload
    assert crc_ok(found.text) and decode(decode(found.text)["62"])["01"] == "BP-1A2B3C4D"
