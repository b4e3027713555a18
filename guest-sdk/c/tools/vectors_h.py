"""Writes the C SDK's tests' header from the SDKs' shared vectors (guest-sdk/vectors/sdk.json,
generated from the Rust SDK): floats written as numbers, number texts read as floats, and
lowercasing, as C arrays the tests walk.

    python3 vectors_h.py ../../vectors/sdk.json > build/vectors.h   (guest-sdk/c/test does this)
"""

import json
import sys


def c_string(text):
    """``text`` as a C string literal of its UTF-8 bytes (hex escapes closed off, so that a
    following hex digit is not read into them)."""
    out = '"'
    for byte in text.encode("utf-8"):
        if byte in (0x22, 0x5C):
            out += "\\" + chr(byte)
        elif 0x20 <= byte <= 0x7E:
            out += chr(byte)
        else:
            out += '\\x%02x""' % byte
    return out + '"'


def main(path):
    vectors = json.load(open(path, encoding="utf-8"))
    lines = ["/* Written by tools/vectors_h.py from guest-sdk/vectors/sdk.json: do not edit. */", ""]
    lines.append("static const struct { uint64_t bits; const char *text; } F64_DISPLAY[] = {")
    for vector in vectors["numbers"]:
        lines.append("    {0x%sull, %s}," % (vector["bits"], c_string(vector["text"])))
    lines += ["};", ""]
    lines.append("static const struct { const char *text; int ok; uint64_t bits; } F64_PARSE[] = {")
    for vector in vectors["parses"]:
        bits = vector["bits"]
        ok, bits = (0, "0") if bits is None else (1, "0x%sull" % bits)
        lines.append("    {%s, %d, %s}," % (c_string(vector["text"]), ok, bits))
    lines += ["};", ""]
    lines.append("static const struct { const char *text, *lower; } LOWER[] = {")
    for vector in vectors["lowercase"]:
        lines.append("    {%s, %s}," % (c_string(vector["text"]), c_string(vector["lower"])))
    lines.append("};")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
