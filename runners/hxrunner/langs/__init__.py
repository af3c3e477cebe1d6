"""One module per language whose compile or run has logic of its own in the runner.

Most languages need none: a request's ``compile`` and ``run`` command lines (built on the host from
its ``Language`` entry) are all the runner needs. A language module may offer:

  NAME                  the language's name on the host (``humaneval_x/languages.py``)
  build_batch(runner, batch) -> {member index: protocol.Outcome}
                        for batches (``protocol.Batch``) of kind NAME: programs compiled together, each
                        still run alone (members it does not settle run alone, as unbatched requests)
  CompileServer         a long-lived compiler for requests with ``"compile_server"``

Adding a language with logic of its own: a module here, listed in MODULES (docs/adding-a-language.md).
"""
from . import go, java, rust

MODULES = (go, java, rust)
BATCH_BUILDERS = {m.NAME: m.build_batch for m in MODULES if hasattr(m, "build_batch")}
