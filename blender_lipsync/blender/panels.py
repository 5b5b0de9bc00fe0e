"""The "Lip Sync" tab of the 3D View sidebar."""

import bpy

from . import compat
from .operators import target_object


class LIPSYNC_UL_mapping(bpy.types.UIList):
    """Mapping rows: target shape key <- source x gain."""

    bl_idname = "LIPSYNC_UL_mapping"

    def draw_item(self, context, layout, _data, item, _icon, _active_data, _active_prop, _index=0):
        obj = target_object(context)
        row = layout.row(align=True)
        row.prop(item, "enabled", text="")
        key = obj.data.shape_keys if obj is not None and obj.type == "MESH" else None
        if key is not None:
            row.prop_search(item, "target", key, "key_blocks", text="")
        else:
            row.prop(item, "target", text="")
        row.prop(item, "source", text="")
        row.prop(item, "gain", text="")


class _LipSyncPanel:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Lip Sync"


class LIPSYNC_PT_main(_LipSyncPanel, bpy.types.Panel):
    bl_idname = "LIPSYNC_PT_main"
    bl_label = "Lip Sync"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.lipsync
        layout.prop(settings, "target")
        if settings.target is None:
            obj = context.active_object
            layout.label(
                text=f"Using active: {obj.name}" if obj else "Select a mesh with shape keys",
                icon="OBJECT_DATA",
            )
        layout.prop(settings, "audio_source", expand=True)
        if settings.audio_source == "STRIP":
            sed = context.scene.sequence_editor
            if sed is not None:
                collection = "strips_all" if hasattr(sed, "strips_all") else "sequences_all"
                layout.prop_search(settings, "strip", sed, collection, icon="SOUND")
            else:
                layout.label(text="No sound strips: add one in the Video Sequencer", icon="INFO")
        elif settings.audio_source == "FILE":
            layout.prop(settings, "filepath")
            layout.prop(settings, "file_start")
        else:
            chosen = [s.name for s in compat.sound_strips(context.scene) if s.select]
            layout.label(text=f"{len(chosen)} selected sound strip(s)", icon="SOUND")
        row = layout.row(align=True)
        row.scale_y = 1.5
        row.operator("lipsync.generate", icon="PLAY_SOUND")
        layout.operator("lipsync.clear", icon="TRASH")


class LIPSYNC_PT_rig(_LipSyncPanel, bpy.types.Panel):
    bl_idname = "LIPSYNC_PT_rig"
    bl_label = "Rig Mapping"
    bl_parent_id = "LIPSYNC_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        obj = target_object(context)
        if obj is None or obj.type != "MESH":
            layout.label(text="Pick a mesh target first")
            return
        settings = obj.lipsync
        row = layout.row(align=True)
        row.prop(settings, "preset", text="")
        row.operator("lipsync.detect_rig", text="", icon="VIEWZOOM")
        row.operator("lipsync.load_preset", text="", icon="IMPORT")
        row = layout.row()
        row.template_list("LIPSYNC_UL_mapping", "", settings, "rows", settings, "active_row", rows=6)
        col = row.column(align=True)
        col.operator("lipsync.row_add", text="", icon="ADD")
        col.operator("lipsync.row_remove", text="", icon="REMOVE")
        if not len(settings.rows):
            layout.label(text="No rows: the preset (or auto-detection) is used", icon="INFO")


class LIPSYNC_PT_style(_LipSyncPanel, bpy.types.Panel):
    bl_idname = "LIPSYNC_PT_style"
    bl_label = "Style"
    bl_parent_id = "LIPSYNC_PT_main"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.lipsync
        layout.prop(settings, "look")
        col = layout.column(align=True)
        for name in ("intensity", "jaw", "lips", "articulation", "anticipation_ms", "closure"):
            col.prop(settings, name, slider=True)
        row = layout.row(align=True)
        row.prop(settings, "smoothing_ms")
        row.prop(settings, "smoothing_order")
        layout.prop(settings, "seal_threshold", slider=True)
        layout.prop(settings, "vowel_open_threshold", slider=True)


class LIPSYNC_PT_keys(_LipSyncPanel, bpy.types.Panel):
    bl_idname = "LIPSYNC_PT_keys"
    bl_label = "Keys"
    bl_parent_id = "LIPSYNC_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        settings = context.scene.lipsync
        layout.prop(settings, "key_mode", expand=True)
        if settings.key_mode == "REDUCED":
            layout.prop(settings, "key_tolerance")
        elif settings.key_mode == "STEPPED":
            layout.prop(settings, "key_step")
        layout.prop(settings, "use_nla")
        layout.prop(settings, "runtime")


CLASSES = (LIPSYNC_UL_mapping, LIPSYNC_PT_main, LIPSYNC_PT_rig, LIPSYNC_PT_style, LIPSYNC_PT_keys)


register, unregister = bpy.utils.register_classes_factory(CLASSES)
