"""The style-mixing grid: the paper's figure rendered as a worker job and shown in a window with
Save PNG, captioned with what it shows."""

from __future__ import annotations

from explorer.context import Context
from explorer.image_dialog import ImageDialog
from explorer.panels.mixing import MixingPanel, ranges
from stylegan2.render import style_mixing_grid


class MixingController:
    def __init__(self, ctx: Context, panel: MixingPanel) -> None:
        self.ctx = ctx
        self.grid_dialog: ImageDialog | None = None  # the latest grid's window
        panel.grid_requested.connect(self.grid)

    def grid(self, rows: list[int], cols: list[int], styles: list[int]) -> None:
        s = self.ctx.model.state
        self.ctx.status.say(f"rendering a {len(rows)}x{len(cols)} mixing grid…")
        # What the dialog says the grid shows (the grid itself has no labels, as NVIDIA's).
        caption = (
            f"top row: column seeds {', '.join(map(str, cols))}; left column: row seeds "
            f"{', '.join(map(str, rows))}; each cell: its row seed with ws {ranges(styles)} "
            f"from its column seed (psi {s.psi:g})"
        )

        def done(grid) -> None:
            # The caption is this call's own: with two grids queued, each keeps its own.
            dialog = ImageDialog(self.ctx.window, "Style-mixing grid", grid, "mixing-grid.png")
            dialog.note.setText(f"{dialog.note.text()} · {caption}")
            dialog.note.setWordWrap(True)
            dialog.show()
            self.grid_dialog = dialog

        self.ctx.run_job(
            "mixing-grid",
            lambda job: style_mixing_grid(
                job.main, rows, cols, styles, s.psi, s.cutoff, s.noise_mode
            ),
            done,
        )
