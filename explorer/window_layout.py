"""The main window's widgets: the image area (with the compare column), the tabbed panels found by
name, the welcome page and the status bar labels. No behaviour: the controllers wire them."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.image_view import ImageView
from explorer.panels.directions import DirectionsPanel
from explorer.panels.features import FeaturesPanel
from explorer.panels.latent import LatentPanel
from explorer.panels.mixing import MixingPanel
from explorer.panels.noise import NoisePanel
from explorer.panels.path import PathPanel
from explorer.panels.performance import PerformancePanel
from explorer.panels.projection import ProjectionPanel
from explorer.panels.text_colors import note_label, text_color
from explorer.panels.truncation import TruncationPanel
from explorer.path_model import PathModel
from explorer.state import StateModel
from explorer.tab_names import TAB_NAMES
from stylegan2.checkpoints.formats import formats_sentence


def welcome_html(lead: str = "Open a network to start") -> str:
    """The page shown while no network is open; `lead` says what is happening."""
    return (
        f"<h2>StyleGAN2 Explorer</h2><p>{lead}: {formats_sentence(('<tt>', '</tt>'))}. "
        "You can also drop a file here.</p><p>No code stored in a file is ever run.</p>"
    )


class ImageArea(QWidget):
    """The image, and in compare mode a second column with the compared network's image; the
    captions name both, the notes say what did not carry over."""

    def __init__(self) -> None:
        super().__init__()
        self.view = ImageView()
        self.twin_view = ImageView()
        self.main_caption = QLabel("")
        self.twin_caption = QLabel("")
        self.twin_caption.setStyleSheet(f"color: {text_color('twin')};")
        self.twin_notes = note_label()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        area = QHBoxLayout()
        outer.addLayout(area, 1)
        # The notes span both columns, so that the two images stay the same size and level.
        outer.addWidget(self.twin_notes)
        self.twin_column = QWidget()  # hidden as a whole, so the main view takes all the room
        for holder, caption, view in (
            (QWidget(), self.main_caption, self.view),
            (self.twin_column, self.twin_caption, self.twin_view),
        ):
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            caption.setIndent(6)  # (off the window's edge)
            column.addWidget(caption)
            column.addWidget(view, 1)
            area.addWidget(holder, 1)
        self.show_twin(False)

    def show_twin(self, on: bool) -> None:
        """Show or hide the compare column and both captions; the twin starts blank."""
        for w in (
            self.main_caption,
            self.twin_caption,
            self.twin_view,
            self.twin_notes,
            self.twin_column,
        ):
            w.setVisible(on)
        self.twin_view.image = None


class Tabs(QTabWidget):
    """The side panel's tabs, each a scrolling page, found by name."""

    def add_page(self, name: str, panels: tuple[QWidget, ...]) -> None:
        page = QWidget()
        col = QVBoxLayout(page)
        for panel in panels:
            col.addWidget(panel)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.addTab(scroll, name)

    def index_of(self, name: str) -> int:
        """The tab's index; a name that is no tab (a typo in the code) raises ValueError."""
        i = next((i for i in range(self.count()) if self.tabText(i).lower() == name.lower()), -1)
        if i < 0:
            raise ValueError(f"no tab named {name!r}; tabs: {', '.join(TAB_NAMES)}")
        return i

    def is_current(self, name: str) -> bool:
        return self.currentIndex() == self.index_of(name)

    def select(self, name: str) -> None:
        self.setCurrentIndex(self.index_of(name))


@dataclass
class WindowUI:
    """Every widget of the main window that a controller or a test reaches."""

    area: ImageArea
    latent: LatentPanel
    truncation: TruncationPanel
    projection: ProjectionPanel
    mixing: MixingPanel
    directions: DirectionsPanel
    noise: NoisePanel
    features: FeaturesPanel
    path: PathPanel
    performance: PerformancePanel
    tabs: Tabs
    splitter: QSplitter
    stack: QStackedWidget  # the welcome page, or the image and the tabs
    welcome_text: QLabel
    welcome_error: QLabel
    open_button: QPushButton
    net_label: QLabel
    pixel_label: QLabel
    time_label: QLabel

    @property
    def view(self) -> ImageView:
        return self.area.view

    @property
    def twin_view(self) -> ImageView:
        return self.area.twin_view


def build_ui(model: StateModel, path_model: PathModel) -> WindowUI:
    area = ImageArea()
    latent, truncation = LatentPanel(model), TruncationPanel(model)
    projection, mixing = ProjectionPanel(), MixingPanel(model)
    directions, noise = DirectionsPanel(model), NoisePanel(model)
    features, path, performance = FeaturesPanel(), PathPanel(path_model), PerformancePanel(model)
    # Tabs keep each group on one screen at 1280x800; the latent and truncation controls,
    # used most, share the first tab.
    tabs = Tabs()
    groups = (
        (latent, truncation, projection),
        (mixing,),
        (directions,),
        (noise,),
        (features,),
        (path,),
        (performance,),
    )
    for name, group in zip(TAB_NAMES, groups, strict=True):
        tabs.add_page(name, group)
    tabs.setMinimumWidth(470)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(area)
    splitter.addWidget(tabs)
    splitter.setStretchFactor(0, 1)
    splitter.setSizes([770, 510])

    welcome = QWidget()
    wl = QVBoxLayout(welcome)
    wl.addStretch(1)
    title = QLabel(welcome_html())
    title.setWordWrap(True)
    title.setAlignment(Qt.AlignmentFlag.AlignCenter)
    welcome_error = QLabel("")
    welcome_error.setStyleSheet(f"color: {text_color('error')};")
    welcome_error.setAlignment(Qt.AlignmentFlag.AlignCenter)
    welcome_error.setWordWrap(True)
    welcome_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    open_button = QPushButton("Open network…")
    wl.addWidget(title)
    wl.addWidget(open_button, 0, Qt.AlignmentFlag.AlignCenter)
    wl.addWidget(welcome_error)
    wl.addStretch(1)
    stack = QStackedWidget()
    stack.addWidget(welcome)
    stack.addWidget(splitter)
    return WindowUI(
        area=area,
        latent=latent,
        truncation=truncation,
        projection=projection,
        mixing=mixing,
        directions=directions,
        noise=noise,
        features=features,
        path=path,
        performance=performance,
        tabs=tabs,
        splitter=splitter,
        stack=stack,
        welcome_text=title,
        welcome_error=welcome_error,
        open_button=open_button,
        net_label=QLabel("no network"),
        pixel_label=QLabel(""),
        time_label=QLabel(""),
    )
