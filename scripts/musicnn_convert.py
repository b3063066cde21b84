#!/usr/bin/env python3
"""Converts musicnn's TensorFlow checkpoint (the `MSD_musicnn` folder of the
`musicnn` wheel on PyPI) into the file Melodora's audio crate reads:
`assets/musicnn/msd_musicnn.bin`.

Pure Python, no packages: it reads the checkpoint's tensor bundle itself
(the `.index` file is a LevelDB-format table of BundleEntryProto records,
the `.data-00000-of-00001` file the raw tensors), keeps the model's
variables (not the optimiser's slots) and writes them, sorted by name, as

    b"MLDTNSR2", u32 count, then per tensor:
    u16 name length, name (UTF-8), u8 rank, rank x u32 dims, u8 kind, values:
      kind 0: f32 values (little-endian)
      kind 1: i8 values, then one f32 scale per entry of the last dim (value = i8 x scale)

Kernels (QUANTISE_FROM values or more) are stored in 8 bits with a scale
per filter (the largest magnitude maps to 127), everything else in f32:
the model is 0.8 MB instead of 3.2 MB, which keeps the static site (whose
music worker embeds it) within its 10 MB, and the tags stay within 4e-3 of
TensorFlow's (`crates/audio/tests/tagger.rs`). The same checkpoint always
gives the same bytes, so `scripts/vendor_musicnn.sh --check` can compare a
fresh conversion with the committed file.

    python3 scripts/musicnn_convert.py CHECKPOINT_DIR OUT.bin
"""
import struct
import sys

TABLE_MAGIC = 0xDB4775248B80FB57
DT_FLOAT = 1
QUANTISE_FROM = 1000


def varint(buf, pos):
    result, shift = 0, 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def block(data, offset, size):
    """The (key, value) entries of one table block (prefix-compressed keys)."""
    if data[offset + size] != 0:
        raise SystemExit("a compressed checkpoint block: this converter reads uncompressed bundles only")
    raw = data[offset:offset + size]
    (restarts,) = struct.unpack_from("<I", raw, len(raw) - 4)
    end = len(raw) - 4 - 4 * restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = varint(raw, pos)
        fresh, pos = varint(raw, pos)
        length, pos = varint(raw, pos)
        key = key[:shared] + raw[pos:pos + fresh]
        pos += fresh
        yield key, raw[pos:pos + length]
        pos += length


def fields(message):
    """(field number, wire type, value) of a protobuf message."""
    pos = 0
    while pos < len(message):
        tag, pos = varint(message, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = varint(message, pos)
        elif wire == 2:
            length, pos = varint(message, pos)
            value = message[pos:pos + length]
            pos += length
        elif wire == 5:
            value = message[pos:pos + 4]
            pos += 4
        elif wire == 1:
            value = message[pos:pos + 8]
            pos += 8
        else:
            raise SystemExit(f"unexpected protobuf wire type {wire}")
        yield number, wire, value


def entry(message):
    """dtype, shape, offset and size of a BundleEntryProto."""
    dtype, shape, offset, size, shard = DT_FLOAT, [], 0, 0, 0
    for number, _, value in fields(message):
        if number == 1:
            dtype = value
        elif number == 2:
            for dim_number, _, dim in fields(value):
                if dim_number == 2:
                    shape.append(next((v for n, _, v in fields(dim) if n == 1), 0))
        elif number == 3:
            shard = value
        elif number == 4:
            offset = value
        elif number == 5:
            size = value
        elif number == 7:
            raise SystemExit("a sliced tensor: not supported")
    return dtype, shape, offset, size, shard


def read_bundle(prefix):
    index = open(prefix + ".index", "rb").read()
    data = open(prefix + ".data-00000-of-00001", "rb").read()
    footer = index[-48:]
    (magic,) = struct.unpack_from("<Q", footer, 40)
    if magic != TABLE_MAGIC:
        raise SystemExit(f"{prefix}.index is not a TensorFlow checkpoint index")
    pos = 0
    _, pos = varint(footer, pos)  # metaindex offset
    _, pos = varint(footer, pos)  # metaindex size
    index_offset, pos = varint(footer, pos)
    index_size, pos = varint(footer, pos)
    tensors = {}
    for _, handle in block(index, index_offset, index_size):
        offset, p = varint(handle, 0)
        size, _ = varint(handle, p)
        for key, value in block(index, offset, size):
            if not key:
                continue  # the bundle's header
            dtype, shape, start, length, shard = entry(value)
            if dtype != DT_FLOAT or shard != 0:
                continue
            count = 1
            for d in shape:
                count *= d
            if count * 4 != length:
                raise SystemExit(f"{key.decode()}: {length} bytes for shape {shape}")
            tensors[key.decode()] = (shape, data[start:start + length])
    return tensors


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    checkpoint_dir, out = sys.argv[1], sys.argv[2]
    tensors = read_bundle(checkpoint_dir.rstrip("/") + "/")
    kept = sorted(name for name in tensors if "Adam" not in name and "power" not in name)
    with open(out, "wb") as handle:
        handle.write(b"MLDTNSR2")
        handle.write(struct.pack("<I", len(kept)))
        for name in kept:
            shape, raw = tensors[name]
            encoded = name.encode()
            handle.write(struct.pack("<H", len(encoded)) + encoded)
            handle.write(struct.pack("<B", len(shape)) + b"".join(struct.pack("<I", d) for d in shape))
            values = len(raw) // 4
            if values < QUANTISE_FROM:
                handle.write(b"\x00" + raw)
            else:
                handle.write(b"\x01" + quantise(struct.unpack(f"<{values}f", raw), shape[-1]))
    print(f"{out}: {len(kept)} tensors, {sum(len(tensors[n][1]) for n in kept) // 4} weights")


def quantise(values, channels):
    """i8 values and one f32 scale per channel (the last dim, the fastest-moving index)."""
    scales = []
    for c in range(channels):
        largest = max(abs(v) for v in values[c::channels])
        scales.append(struct.unpack("<f", struct.pack("<f", largest / 127.0))[0] or 1.0)
    codes = bytearray()
    for i, v in enumerate(values):
        codes.append(max(-127, min(127, round(v / scales[i % channels]))) & 0xFF)
    return bytes(codes) + struct.pack(f"<{channels}f", *scales)


if __name__ == "__main__":
    main()
