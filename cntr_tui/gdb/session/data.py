"""GdbSession's data commands: a frame's variables, expressions, a var-object's children,
registers, disassembly and memory.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cntr_tui.gdb.records import (
    Instruction,
    MemoryBlock,
    Register,
    Result,
    Variable,
    as_list,
    to_int,
)
from cntr_tui.gdb.session.core import SessionCore
from cntr_tui.gdb.transport import mi_quote

VECTOR_PREFIXES = ("st0", "xmm", "ymm", "zmm", "v0", "q0", "d0", "f0", "fpr0")


class SessionData(SessionCore):
    """Variables, expressions, registers, disassembly, memory."""

    def _context(self, thread_id: int | None, level: int | None) -> str:
        thread = thread_id if thread_id is not None else self.selected_thread
        options = f"--thread {thread} " if thread is not None else ""
        frame = level if level is not None else self.selected_frame
        return options + f"--frame {frame} "

    async def variables(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        """Arguments and locals of a frame, with values (structs as gdb prints them)."""
        context = self._context(thread_id, level)
        result = await self._call(f"-stack-list-variables {context}--all-values")
        if not result.ok:
            return Result(error=result.error)
        return Result(
            [Variable.from_mi(item) for item in as_list((result.value or {}).get("variables"))]
        )

    async def locals(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        found = await self.variables(thread_id, level)
        return Result([v for v in found.value or [] if not v.is_argument], found.error)

    async def arguments(
        self, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        found = await self.variables(thread_id, level)
        return Result([v for v in found.value or [] if v.is_argument], found.error)

    async def children(
        self, expression: str, thread_id: int | None = None, level: int | None = None
    ) -> Result[list[Variable]]:
        """The members of a struct/class/array expression (one level), via a var-object."""
        context = self._context(thread_id, level)
        created = await self._call(f"-var-create {context}- * {mi_quote(expression)}")
        if not created.ok:
            return Result(error=created.error)
        name = str((created.value or {}).get("name"))
        try:
            listed = await self._call(f"-var-list-children --all-values {name}")
            if not listed.ok:
                return Result(error=listed.error)
            children = []
            for item in as_list((listed.value or {}).get("children")):
                child = item.get("child", item) if isinstance(item, dict) else {}
                children.append(
                    Variable(
                        name=str(child.get("exp", "?")),
                        value=child.get("value"),
                        type=child.get("type"),
                        child_count=to_int(child.get("numchild")) or 0,
                    )
                )
            return Result(children)
        finally:
            await self.command(f"-var-delete {name}")

    async def evaluate(
        self, expression: str, thread_id: int | None = None, level: int | None = None
    ) -> Result[str]:
        context = self._context(thread_id, level) if self.state == "stopped" else ""
        result = await self._call(f"-data-evaluate-expression {context}{mi_quote(expression)}")
        if not result.ok:
            return Result(error=result.error)
        return Result(str((result.value or {}).get("value", "")))

    async def registers(
        self, thread_id: int | None = None, level: int | None = None, vector: bool = False
    ) -> Result[list[Register]]:
        """General-purpose, flags and segment registers; with `vector`, every register
        gdb has. All of them on x86-64 are ~65 KB of MI (x/y/zmm, k0-7), whose parsing
        took ~100 ms of each stop with the registers pane shown."""
        if self._register_names is None:
            names = await self._call("-data-list-register-names")
            if not names.ok:
                return Result(error=names.error)
            self._register_names = [
                str(n) for n in as_list((names.value or {}).get("register-names"))
            ]
        context = self._context(thread_id, level)
        wanted = "" if vector else " " + " ".join(map(str, general_registers(self._register_names)))
        values = await self._call(f"-data-list-register-values {context}x{wanted}")
        if not values.ok:
            return Result(error=values.error)
        registers = []
        for item in as_list((values.value or {}).get("register-values")):
            number = to_int(item.get("number"))
            if number is None or number >= len(self._register_names):
                continue
            name = self._register_names[number]
            if name:
                registers.append(Register(number, name, str(item.get("value", ""))))
        return Result(registers)

    async def disassemble(
        self,
        thread_id: int | None = None,
        level: int | None = None,
        with_source: bool = False,
        before: int = 8,
        after: int = 16,
    ) -> Result[tuple[list[Instruction], int | None]]:
        """Instructions around the frame's PC, and the PC. Whole function when known.
        `with_source`: the whole function, each instruction with its source line."""
        pc_text = await self.evaluate("$pc", thread_id, level)
        if not pc_text.ok:
            return Result(error=pc_text.error)
        pc = to_int(str(pc_text.value).split()[0], 16) if pc_text.value else None
        if pc is None:
            return Result(error=f"no PC: {pc_text.value}")
        mode = 4 if with_source else 0  # 4: mixed source and disassembly
        result = await self._call(f"-data-disassemble -a {pc:#x} -- {mode}")
        if not result.ok:
            result = await self._call(f"-data-disassemble -s {pc:#x} -e {pc + 64:#x} -- {mode}")
        if not result.ok:
            return Result(error=result.error)
        lines = instructions_of(as_list((result.value or {}).get("asm_insns")))
        if with_source:
            return Result((lines, pc))
        index = next((i for i, line in enumerate(lines) if line.address == pc), 0)
        return Result((lines[max(0, index - before) : index + after], pc))

    async def read_memory(self, address: int | str, length: int) -> Result[MemoryBlock]:
        where = f"{address:#x}" if isinstance(address, int) else mi_quote(address)
        result = await self._call(f"-data-read-memory-bytes {where} {length}")
        if not result.ok:
            return Result(error=result.error)
        blocks = as_list((result.value or {}).get("memory"))
        if not blocks:
            return Result(error="no memory returned")
        start = to_int(blocks[0].get("begin"), 16) or 0
        data = b"".join(bytes.fromhex(block.get("contents", "")) for block in blocks)
        return Result(MemoryBlock(start, data))


def instructions_of(items: list[Any]) -> list[Instruction]:
    """-data-disassemble's asm_insns: instructions, or with mode 4 `src_and_asm_line`
    tuples of a source line and its instructions."""
    found: list[Instruction] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "line_asm_insn" not in item:
            found.append(Instruction.from_mi(item))
            continue
        line, file, fullname = to_int(item.get("line")), item.get("file"), item.get("fullname")
        for code in as_list(item.get("line_asm_insn")):
            if isinstance(code, dict):
                instruction = Instruction.from_mi(code)
                found.append(replace(instruction, line=line, file=file, fullname=fullname))
    return found


def general_registers(names: list[str]) -> list[int]:
    """The numbers of the registers before the first floating-point or vector one (on
    x86-64: rax..r15, rip, eflags, cs..gs), and fs_base/gs_base; every named one when
    the architecture has none of those."""
    first_other = next(
        (n for n, name in enumerate(names) if name.startswith(VECTOR_PREFIXES)), len(names)
    )
    general = [n for n in range(first_other) if names[n]]
    general += [n for n, name in enumerate(names) if name in ("fs_base", "gs_base")]
    return general
