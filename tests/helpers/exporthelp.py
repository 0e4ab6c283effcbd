"""Shared by several tests (moved out of the test modules that first had them)."""

import io
import os
import zipfile

TEXT_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
<TextArea name="note" toName="text"/></View>"""


class Project:
    """A project made over HTTP, and both exporters run on it."""

    def __init__(self, live, tmp_path, label_config, title="export test"):
        self.live, self.api, self.tmp = live, live.api, tmp_path
        self.label_config = label_config
        self.id = self.api.project(title=title, label_config=label_config)["id"]

    def upload(self, files):
        """Upload (name, bytes) files as tasks; their task ids, in order."""
        body = [("file", (name, data)) for name, data in files]
        r = self.api.post(f"/api/projects/{self.id}/import", files=body)
        assert r.status_code == 201, r.text
        return self.task_ids()[-len(files):]

    def add_tasks(self, items):
        r = self.api.post(f"/api/projects/{self.id}/import", json=items)
        assert r.status_code == 201, r.text
        return self.task_ids()[-len(items):]

    def task_ids(self):
        tasks = self.export("JSON", download_all_tasks="true").json()
        return [t["id"] for t in tasks]

    def annotate(self, task_id, result, **fields):
        r = self.api.post(f"/api/tasks/{task_id}/annotations/", json={"result": result, **fields})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def export(self, fmt, **params):
        r = self.api.get(f"/api/projects/{self.id}/export", params={"exportType": fmt, **params})
        assert r.status_code == 200, (fmt, r.status_code, r.text[:300])
        return r

    def ours(self, fmt, **params):
        """Our export, unpacked into a folder like the converter's output."""
        r = self.export(fmt, **params)
        target = self.tmp / f"ours-{self.id}-{fmt}-{len(list(self.tmp.iterdir()))}"
        target.mkdir()
        if r.headers["Content-Type"] == "application/zip":
            zipfile.ZipFile(io.BytesIO(r.content)).extractall(target)
        else:
            ext = os.path.splitext(r.headers["filename"])[1]
            (target / ("result" + ext)).write_bytes(r.content)
        return target

    def oracle(self, fmt, download_resources=True, **params):
        """label_studio_sdk's converter run on our JSON export of the same tasks."""
        from label_studio_sdk.converter import Converter

        source = self.tmp / f"tasks-{self.id}-{fmt}.json"
        source.write_bytes(self.export("JSON", **params).content)
        target = self.tmp / f"ls-{self.id}-{fmt}-{len(list(self.tmp.iterdir()))}"
        target.mkdir()
        converter = Converter(config=self.label_config, project_dir=None,
                              upload_dir=str(self.live.settings.media_dir / "upload"),
                              download_resources=download_resources)
        converter.convert(str(source), str(target), fmt, is_dir=False)
        return target


