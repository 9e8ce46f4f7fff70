"""The window's controllers, one per feature, each built from one `explorer.context.Context`
and the widgets it drives."""
