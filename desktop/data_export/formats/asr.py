"""ASR Manifest: NVIDIA NeMo JSON lines (manifest.json) + audio/ in a zip.

Like LS, the duration comes from the `wave` module, so items whose audio is not a readable WAV
file are left out.
"""

import json
import wave

from desktop.data_export.formats import media
from desktop.data_export.formats.base import ExportFormat
from desktop.data_export.formats.items import annotator, iter_items


class ASRManifestFormat(ExportFormat):
    name = "ASR_MANIFEST"
    order = 15
    title = "ASR Manifest"
    description = (
        "Export audio transcription labels for automatic speech recognition as the JSON manifest "
        "format expected by NVIDIA NeMo models."
    )
    link = "https://labelstud.io/guide/export.html#ASR-MANIFEST"
    tags = ["speech recognition"]

    def fits(self, summary):
        return summary.has("Audio", "AudioPlus") and "TextArea" in summary.control_types

    def write(self, tasks, out, ctx):
        archive = media.Archive(out, ["audio"])
        with open(archive.path("manifest.json"), "w", encoding="utf8") as manifest:
            for item in iter_items(tasks, ctx.parsed_label_config):
                line = manifest_line(item, ctx, archive)
                if line is not None:
                    manifest.write(line + "\n")
        return archive.close()


def manifest_line(item, ctx, archive):
    url = item["input"].get(ctx.data_key)
    path = media.resolve(ctx, url)
    if path is None:
        return None
    if ctx.download_resources:
        # LS copies the file before it looks at it: unreadable audio is still in audio/
        archive.add_media("audio/" + path.name, path)
    try:
        with wave.open(str(path), "rb") as f:
            duration = f.getnframes() / float(f.getframerate())
    except (wave.Error, EOFError, OSError):
        return None
    transcript = next(
        (values[0]["text"][0] for values in item["output"].values()
         if values and values[0].get("text")), None
    )
    if transcript is None:
        # LS fails the whole export on an item without a transcript; we leave the item out.
        return None
    record = {"audio_filepath": "audio/" + path.name, "duration": duration, "text": transcript,
              "annotator": annotator(item, default="")}
    # The standard library's separators and ASCII escaping, as LS writes it.
    return json.dumps(record)


FORMATS = [ASRManifestFormat()]
