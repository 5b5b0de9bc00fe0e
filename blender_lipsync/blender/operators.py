"""Operators: Generate (modal, the network runs on a worker thread), Clear, and mapping tools."""

import threading

import bpy

from ..core.retarget import PRESETS, detect_preset, resolve
from . import api


def target_object(context) -> bpy.types.Object | None:
    """The panel's target, else the active object."""
    settings = context.scene.lipsync
    return settings.target or context.active_object


def _has_target(context) -> bool:
    obj = target_object(context)
    return obj is not None and obj.type == "MESH"


def job_from_settings(context) -> api.Job:
    """Prepare a run from the panel settings (raises api.LipSyncError on bad input)."""
    s = context.scene.lipsync
    obj = target_object(context)
    api.check_target(obj)
    source = {
        "STRIP": {"strip": s.strip},
        "SELECTED": {"selected_strips": True},
        "FILE": {"audio": s.filepath, "start_frame": s.file_start},
    }[s.audio_source]
    return api.prepare(
        obj,
        scene=context.scene,
        style=s.style(),
        post=s.post(),
        keys=s.keys(),
        use_nla=s.use_nla,
        runtime=s.runtime,
        rows=obj.lipsync.mapping(),
        preset=obj.lipsync.preset_id(),
        **source,
    )


class LIPSYNC_OT_generate(bpy.types.Operator):
    """Generate lip-sync keyframes on the target's shape keys from the chosen audio"""

    bl_idname = "lipsync.generate"
    bl_label = "Generate Lip-Sync"
    bl_options = {"REGISTER", "UNDO"}

    _timer = None
    _thread: threading.Thread | None = None
    _job: api.Job | None = None
    _error: Exception | None = None
    _progress = 0.0

    @classmethod
    def poll(cls, context) -> bool:
        return context.scene is not None and hasattr(context.scene, "lipsync")

    def execute(self, context):
        """Blocking run: headless, scripts and redo."""
        try:
            job = job_from_settings(context)
            job.compute()
            return self._finish(job)
        except api.LipSyncError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}

    def invoke(self, context, _event):
        if bpy.app.background:
            return self.execute(context)
        try:
            self._job = job_from_settings(context)
        except api.LipSyncError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._error, self._progress = None, 0.0
        self._thread = threading.Thread(target=self._compute, daemon=True)
        self._thread.start()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        context.workspace.status_text_set("Lip Sync: analysing audio... (Esc to cancel)")
        return {"RUNNING_MODAL"}

    def _compute(self) -> None:
        try:
            self._job.compute(progress=self._set_progress)
        except Exception as exc:  # shown in the UI by modal(), never lost in the console
            self._error = exc

    def _set_progress(self, fraction: float) -> None:
        self._progress = fraction

    def modal(self, context, event):
        if event.type == "ESC":
            self._job.cancel.set()
            self._thread.join()
            self._cleanup(context)
            self.report({"WARNING"}, "Lip-sync cancelled: nothing was changed.")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        context.window_manager.progress_update(int(100 * self._progress))
        if self._thread.is_alive():
            return {"RUNNING_MODAL"}
        self._cleanup(context)
        if self._error is not None:
            message = str(self._error) if isinstance(self._error, api.LipSyncError) else repr(self._error)
            self.report({"ERROR"}, f"Lip-sync failed: {message}")
            return {"CANCELLED"}
        return self._finish(self._job)

    def _cleanup(self, context) -> None:
        wm = context.window_manager
        wm.event_timer_remove(self._timer)
        wm.progress_end()
        context.workspace.status_text_set(None)

    def _finish(self, job: api.Job):
        reports = job.bake()
        for report in reports:
            self.report({"INFO"}, report.summary())
        return {"FINISHED"}


class LIPSYNC_OT_clear(bpy.types.Operator):
    """Remove the lip-sync actions this add-on generated on the target (nothing else)"""

    bl_idname = "lipsync.clear"
    bl_label = "Clear Lip-Sync"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        try:
            removed = api.clear(target_object(context))
        except api.LipSyncError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Removed {removed} lip-sync action(s).")
        return {"FINISHED"}


def _rig_names(operator, context) -> tuple | None:
    """(target object, its shape-key names), or None after reporting why there are none."""
    obj = target_object(context)
    try:
        key = api.check_target(obj)
    except api.LipSyncError as exc:
        operator.report({"ERROR"}, str(exc))
        return None
    return obj, [kb.name for kb in key.key_blocks[1:]]


def _fill_rows(operator, obj, found) -> set:
    if found is None:
        operator.report({"ERROR"}, "No known rig naming found: pick a preset and edit the rows by hand.")
        return {"CANCELLED"}
    obj.lipsync.fill(list(found.rows))
    operator.report(
        {"INFO"}, f"{found.preset.label}: {len(found.rows)} rows, {len(found.missing)} preset keys missing."
    )
    return {"FINISHED"}


class LIPSYNC_OT_detect_rig(bpy.types.Operator):
    """Detect the rig preset from the shape-key names and fill the mapping rows"""

    bl_idname = "lipsync.detect_rig"
    bl_label = "Detect Rig"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        rig = _rig_names(self, context)
        if rig is None:
            return {"CANCELLED"}
        obj, names = rig
        found = detect_preset(names)
        if found is not None:
            obj.lipsync.preset = found.preset.id
        return _fill_rows(self, obj, found)


class LIPSYNC_OT_load_preset(bpy.types.Operator):
    """Fill the mapping rows from the chosen rig preset"""

    bl_idname = "lipsync.load_preset"
    bl_label = "Load Preset Rows"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        rig = _rig_names(self, context)
        if rig is None:
            return {"CANCELLED"}
        obj, names = rig
        preset_id = obj.lipsync.preset_id()
        return _fill_rows(
            self, obj, resolve(PRESETS[preset_id], names) if preset_id else detect_preset(names)
        )


class _RowOperator:
    """Edits the target's mapping rows: needs a mesh target."""

    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context) -> bool:
        return _has_target(context)


class LIPSYNC_OT_row_add(_RowOperator, bpy.types.Operator):
    """Add a mapping row"""

    bl_idname = "lipsync.row_add"
    bl_label = "Add Row"

    def execute(self, context):
        settings = target_object(context).lipsync
        settings.rows.add()
        settings.active_row = len(settings.rows) - 1
        return {"FINISHED"}


class LIPSYNC_OT_row_remove(_RowOperator, bpy.types.Operator):
    """Remove the active mapping row"""

    bl_idname = "lipsync.row_remove"
    bl_label = "Remove Row"

    def execute(self, context):
        settings = target_object(context).lipsync
        if 0 <= settings.active_row < len(settings.rows):
            settings.rows.remove(settings.active_row)
            settings.active_row = max(0, settings.active_row - 1)
        return {"FINISHED"}


CLASSES = (
    LIPSYNC_OT_generate,
    LIPSYNC_OT_clear,
    LIPSYNC_OT_detect_rig,
    LIPSYNC_OT_load_preset,
    LIPSYNC_OT_row_add,
    LIPSYNC_OT_row_remove,
)


register, unregister = bpy.utils.register_classes_factory(CLASSES)
