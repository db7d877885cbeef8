"""Sign a message with OpenDKIM's library (libopendkim, Debian
libopendkim11), which opendkim-testmsg cannot do with rsa-sha256 (it only
signs rsa-sha1).  Driven through ctypes with the library's own API:
dkim_init, dkim_sign, dkim_chunk, dkim_eom, dkim_getsighdr_d.

    /usr/bin/python3 opendkim_sign.py SELECTOR DOMAIN KEYFILE [rsa-sha256|ed25519-sha256] < msg > signed

Prints the message with OpenDKIM's DKIM-Signature field on top (LF line
ends, as the input).
"""

import ctypes
import ctypes.util
import sys

CANON_RELAXED = 1
ALGS = {"rsa-sha256": 1, "ed25519-sha256": 2}


def sign(msg, selector, domain, key, alg):
    lib = ctypes.CDLL(ctypes.util.find_library("opendkim") or "libopendkim.so.11")
    lib.dkim_init.restype = ctypes.c_void_p
    lib.dkim_sign.restype = ctypes.c_void_p
    lib.dkim_sign.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_char_p,
                              ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_ssize_t, ctypes.POINTER(ctypes.c_int)]
    lib.dkim_chunk.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.dkim_eom.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.dkim_getsighdr_d.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                                     ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
    lib.dkim_free.argtypes = [ctypes.c_void_p]
    lib.dkim_close.argtypes = [ctypes.c_void_p]
    handle = lib.dkim_init(None, None)
    status = ctypes.c_int(0)
    d = lib.dkim_sign(handle, b"test", None, key, selector, domain, CANON_RELAXED, CANON_RELAXED,
                      ALGS[alg], -1, ctypes.byref(status))
    if not d:
        sys.exit(f"dkim_sign: status {status.value}")
    crlf = msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    for step in (lambda: lib.dkim_chunk(d, crlf, len(crlf)), lambda: lib.dkim_chunk(d, None, 0),
                 lambda: lib.dkim_eom(d, None)):
        st = step()
        if st != 0:
            sys.exit(f"libopendkim: status {st}")
    out = ctypes.c_char_p()
    n = ctypes.c_size_t()
    prefix = b"DKIM-Signature: "
    if lib.dkim_getsighdr_d(d, len(prefix), ctypes.byref(out), ctypes.byref(n)) != 0:
        sys.exit("dkim_getsighdr_d failed")
    field = prefix + ctypes.string_at(out, n.value)
    lib.dkim_free(d)
    lib.dkim_close(handle)
    return field.replace(b"\r\n", b"\n") + b"\n" + msg


def main():
    selector, domain, keyfile = (a.encode() for a in sys.argv[1:4])
    alg = sys.argv[4] if len(sys.argv) > 4 else "rsa-sha256"
    with open(keyfile, "rb") as f:
        key = f.read()
    sys.stdout.buffer.write(sign(sys.stdin.buffer.read(), selector, domain, key, alg))


if __name__ == "__main__":
    main()
