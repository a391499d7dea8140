"""Knowledge-base translation at scale: folders or help centers, incremental, resumable.

```python
from tl_loop import TlLoopConfig
from tl_loop.kb import kb_status, translate_folder

summary = translate_folder("articles/", out_dir="translated/", targets=["es", "fr"],
                           config=TlLoopConfig(engines=["apertium"]))
print(summary.engine_segments, summary.reuse_rate)
outdated = [s for s in kb_status("articles/", out_dir="translated/") if s.state == "outdated"]
```

The `tl-loop kb` command line (`tl_loop.cli`) is built on these functions.
"""

from __future__ import annotations

from tl_loop.kb._articles import ARTICLE_SUFFIXES, ArticleError, Field, SourceArticle, parse_article
from tl_loop.kb._exchange import (
    REVIEWED_STATES,
    ExchangeUnit,
    InlineCode,
    UnitState,
    export_tmx,
    export_xliff,
    import_tmx,
    import_xliff,
    token_problems,
)
from tl_loop.kb._executors import LoopSpec
from tl_loop.kb._jobs import ArticleRecord, JobStore
from tl_loop.kb._manage import (
    ArticleStatus,
    ImportReport,
    PublishReport,
    kb_export_xliff,
    kb_import_xliff,
    kb_publish,
    kb_pull,
    kb_status,
)
from tl_loop.kb._progress import KbSummary, NullProgress, Progress, RichProgress
from tl_loop.kb._review import review_item_id
from tl_loop.kb._runner import KbPaths, translate_folder

__all__ = [
    "ARTICLE_SUFFIXES",
    "REVIEWED_STATES",
    "ArticleError",
    "ArticleRecord",
    "ArticleStatus",
    "ExchangeUnit",
    "Field",
    "ImportReport",
    "InlineCode",
    "JobStore",
    "KbPaths",
    "KbSummary",
    "LoopSpec",
    "NullProgress",
    "Progress",
    "PublishReport",
    "RichProgress",
    "SourceArticle",
    "UnitState",
    "export_tmx",
    "export_xliff",
    "import_tmx",
    "import_xliff",
    "kb_export_xliff",
    "kb_import_xliff",
    "kb_publish",
    "kb_pull",
    "kb_status",
    "parse_article",
    "review_item_id",
    "token_problems",
    "translate_folder",
]
