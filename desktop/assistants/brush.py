"""Label Studio's brush masks: the run-length bit stream of a `brushlabels` result's `rle`.

The editor decodes a mask as an RGBA image, width x height x 4 bytes, from this stream (the
format of thi.ng's rle-pack, which label-studio-converter's brush.py also writes):

* 32 bits: how many values follow (width * height * 4), 5 bits: the word size less one (7: bytes),
  then four 4-bit run-length field sizes less one (3, 4, 8 and 16 bits);
* then chunks, each a flag bit, a 2-bit index into the field sizes, a count less one in that many
  bits, then the values: flag 1, one value repeated `count` times; flag 0, `count` values;
* zero bits up to a whole byte; the stream as a list of byte values (0-255).

A mask pixel is 255 in all four channels, background 0. Runs of the mask are runs of the RGBA
stream four times as long, so the runs are found on the mask and never on the 4x larger array.
Written from the format's description; numpy is the only dependency.
"""

SIZES = (3, 4, 8, 16)  # bits of the run-length fields
WORD = 8


def encode(mask):
    """The `rle` list of a 2-D mask (anything non-zero is inside)."""
    import numpy as np

    flat = (np.asarray(mask) != 0).ravel()
    total = flat.size * 4
    bits = [f"{total:032b}", f"{WORD - 1:05b}", "".join(f"{size - 1:04b}" for size in SIZES)]
    if flat.size:
        changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        starts = np.concatenate(([0], changes))
        lengths = np.diff(np.concatenate((starts, [flat.size]))) * 4
        longest = 1 << SIZES[-1]
        for start, length in zip(starts.tolist(), lengths.tolist()):
            value = "11111111" if flat[start] else "00000000"
            while length > 0:
                count = min(length, longest)
                index = next(i for i, size in enumerate(SIZES) if count <= 1 << size)
                bits.append(f"1{index:02b}{count - 1:0{SIZES[index]}b}{value}")
                length -= count
    stream = "".join(bits)
    stream += "0" * (-len(stream) % 8)
    return list(int(stream, 2).to_bytes(len(stream) // 8, "big"))


def decode(rle, width, height):
    """The 2-D mask (uint8, 0 or 255: the alpha channel) of an `rle` list."""
    import numpy as np

    data = bytes(rle)
    bits = "".join(f"{byte:08b}" for byte in data)
    at = 0

    def read(n):
        nonlocal at
        value = int(bits[at:at + n], 2) if n else 0
        at += n
        return value

    total = read(32)
    word = read(5) + 1
    sizes = [read(4) + 1 for _ in range(4)]
    out = np.zeros(total, dtype=np.uint8)
    i = 0
    while i < total:
        repeated = read(1)
        end = i + 1 + read(sizes[read(2)])
        if repeated:
            out[i:end] = read(word)
        else:
            for j in range(i, end):
                out[j] = read(word)
        i = end
    return out.reshape(height, width, 4)[:, :, 3]
