"""A 10 s, 30 fps mono Y4M clip of a PNG with its faces drifting (the whole
picture shifted along smooth paths), for speed comparisons that need motion
but no Python packages: `python3 bench/drift_clip.py SCENE.png OUT.y4m`."""
import math, struct, sys, zlib

def read_png_gray(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    pos, idat, w = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and body[12] == 0, 'plain 8-bit only'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(line); prev = line
    gray = []
    for line in rows:
        if bpp == 1: gray.append(bytes(line))
        else:
            gray.append(bytes(((9798 * line[i] + 19235 * line[i + 1] + 3735 * line[i + 2] + 16384) >> 15)
                              for i in range(0, stride, bpp)))
    return w, h, gray

w, h, rows = read_png_gray(sys.argv[1])
with open(sys.argv[2], 'wb') as out:
    out.write(f'YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 Cmono\n'.encode())
    for t in range(300):
        dx = int(40 * math.sin(t / 40)); dy = int(30 * math.sin(t / 55))
        out.write(b'FRAME\n')
        for y in range(h):
            row = rows[(y - dy) % h]
            out.write(row[(-dx) % w:] + row[:(-dx) % w])
