"""parse(): bpftrace text to an AST and diagnostics, for any input.

lark builds an LALR(1) parser with a contextual lexer from bpftrace.lark. We
drive it token by token ourselves, instead of calling `Lark.parse`, so that
a syntax error never ends the parse:

1. **Repair.** Try small edits at the offending token (insert `;`, `)`,
   `,`..., insert `);`, or delete the token; recovery.py) and keep the one
   after which the most following tokens parse: "expected ';'".
2. **Panic.** If no edit is good enough, report the unexpected token, pop
   the parser's stack back to the nearest *anchor* (a state between
   statements of a block, between a probe's header and its body, or between
   top-level items), and skip tokens until a point where parsing can resume:
   a `;` or `}` that closes the broken statement, a `{` that opens a body, a
   keyword that starts a statement, or a line that starts at column 1 at the
   top level.
3. **End of input.** Close whatever is still open (`}`, `)`, `]`).

One repair is made before any error: a line that starts at column 1 inside
a block is tried as a new probe, in case a `}` is missing.

Everything that was complete before an error stays on lark's value stack,
so every probe, statement and expression that parsed is in the AST.

Only this module, grammar.py and to_ast.py know about lark. The lark
internals used (`ParserState`, the contextual lexer's per-state lexers,
`BasicLexer`) are pinned by the lark version range in pyproject.toml.
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from ..diagnostics import Diagnostic, DiagnosticSink, error
from ..source import MAX_SOURCE_BYTES, SourceText, Span, decode
from . import ast
from .grammar import Grammar, comment_sink, load_grammar
from .messages import Messages
from .recovery import CONFIDENT, RepairSearch, set_position, trial_copy
from .to_ast import AstBuilder

MAX_SYNTAX_ERRORS = 100
# Parser stack depth; deeper input is reported and skipped, which keeps the
# tree (and every recursive pass after us) shallow.
MAX_STACK_DEPTH = 400
# After an error, this many tokens must be accepted before another error is
# reported: one mistake should give one message, not a cascade.
QUIET_AFTER_ERROR = 2


@dataclass
class ParseResult:
    program: ast.Program
    diagnostics: list[Diagnostic]
    source: SourceText
    # Set when incremental.reparse() built a newer result from this one.
    consumed: bool = False


def parse(text: str, name: str = "stdin") -> ParseResult:
    """Parse a whole bpftrace program. Never raises for any text."""
    source = SourceText(text, name)
    if len(source.data) > MAX_SOURCE_BYTES:
        message = (
            f"program too large: {len(source.data)} bytes "
            f"(the limit is {MAX_SOURCE_BYTES // 1024} KiB)"
        )
        program = ast.Program(Span(0, len(source.data)), [])
        return ParseResult(program, [error("too-large", message, Span(0, 0))], source)
    sink = DiagnosticSink()
    try:
        program = _Session(load_grammar(), source, sink).run()
    except RecursionError:
        sink.error("nesting", "program is nested too deeply to parse", Span(0, 0))
        program = ast.Program(Span(0, len(source.data)), [])
    return ParseResult(program, sink.items, source)


# --------------------------------------------------------------- session

_BLOCK, _HEAD, _TOP = "block", "head", "top"
_UNTERMINATED = {
    "STRING": ('"', "unterminated string"),
    "CHAR": ("'", "unterminated character literal"),
}


class _Session:
    """One parse: the lark parser state, the lexer position, and recovery."""

    def __init__(self, grammar: Grammar, source: SourceText, sink: DiagnosticSink) -> None:
        self.g = grammar
        self.repairs = RepairSearch(grammar)
        self.messages = Messages(grammar)
        self.source = source
        self.sink = sink
        interactive = grammar.lark.parse_interactive(source.lark_text)
        self.state = interactive.parser_state
        self.lexer_state = interactive.lexer_thread.state
        self.end = len(source.lark_text)
        self.errors = 0
        self.accepted_since_error = QUIET_AFTER_ERROR
        self.last_end = 0  # where the last accepted token ended
        self.skipping = None  # anchor kind while skipping, else None
        self.skip_depth = 0
        self.bad_chars_at = -1
        self.checked_literals: set[int] = set()
        self.comment_tokens: list[Token] = []

    def run(self) -> ast.Program:
        reset = comment_sink.set(self.comment_tokens)
        try:
            while (token := self._next_token()) is not None:
                if self.skipping:
                    self._skip(token)
                elif not self._close_blocks_before(token):
                    self._feed(token)
                if self.errors >= MAX_SYNTAX_ERRORS:
                    self._report(self._token_span(token), "too many syntax errors; giving up", force=True)
                    break
            tree = self._finish()
        finally:
            comment_sink.reset(reset)
        return AstBuilder(self.source, self.sink).build(tree, self._comments())

    # ------------------------------------------------------------ lexing

    def _next_token(self) -> Token | None:
        """The next token, or None at the end. Characters that no terminal
        matches are reported (once per run) and skipped."""
        while True:
            if self.skipping:
                lexer = self.g.skip_lexer
            else:
                lexer = self.g.contextual.lexers[self.state.position]
            try:
                return self._check_literal(lexer.next_token(self.lexer_state, self.state))
            except EOFError:
                return None
            except UnexpectedCharacters:
                pass
            if not self.skipping:
                # Maybe a token that is valid elsewhere, such as '}' at the
                # top level: lex it anyway so the parser can report it.
                try:
                    return self._check_literal(self.g.skip_lexer.next_token(self.lexer_state, self.state))
                except (UnexpectedCharacters, EOFError):
                    pass
            self._skip_character()

    def _check_literal(self, token: Token) -> Token:
        """Report a literal that runs to the end of its line unclosed; the
        lexer accepts it so that parsing goes on. A token lexed again after
        a rewind is reported once."""
        if token.type not in _UNTERMINATED and token.type != "C_UNTERMINATED":
            return token
        if token.start_pos in self.checked_literals:
            return token
        self.checked_literals.add(token.start_pos)
        if token.type in _UNTERMINATED and not self.skipping:
            quote, message = _UNTERMINATED[token.type]
            text = str(token)
            closed = len(text) >= 2 and text.endswith(quote) and not _escaped_at_end(text[1:-1])
            if not closed:
                self._report(self._token_span(token), message)
        elif token.type == "C_UNTERMINATED":
            self._report(self._token_span(token), "unterminated C definition")
        return token

    def _skip_character(self) -> None:
        """Step over one character no terminal matches (a whole UTF-8
        sequence, if it is one)."""
        text = self.source.lark_text
        pos = self.lexer_state.line_ctr.char_pos
        if pos >= self.end:
            return
        end = pos + 1
        if text[pos] >= "\xc0":
            while end < self.end and end - pos < 4 and "\x80" <= text[end] < "\xc0":
                end += 1
        if pos != self.bad_chars_at and not self.skipping:
            char = decode(text[pos:end])
            shown = char if char.isprintable() else ascii(char)[1:-1]
            self._report(Span(pos, end), f"unexpected character '{shown}'")
        self.lexer_state.line_ctr.feed(text[pos:end])
        self.bad_chars_at = end

    def _rewind(self, token: Token) -> None:
        """Lex again from the start of `token`."""
        set_position(self.lexer_state, token.start_pos, token.line, token.column)

    def _skip_past(self, token: Token) -> None:
        set_position(self.lexer_state, token.end_pos, token.end_line, token.end_column)

    # ----------------------------------------------------------- parsing

    def _feed(self, token: Token) -> None:
        if not self._try_feed(token):
            self._recover(token)
            return
        if len(self.state.state_stack) > MAX_STACK_DEPTH:
            self._too_deep(token)

    def _try_feed(self, token: Token) -> bool:
        """Feed a token if the parser accepts it. When it does not, the state
        may have been reduced (as LALR tables allow) but is still valid."""
        if not self.g.accepts(self.state.position, token.type):
            return False
        try:
            self.state.feed_token(token, token.type == "$END")
        except UnexpectedToken:
            return False
        self.last_end = max(self.last_end, token.end_pos)
        self.accepted_since_error += 1
        return True

    def _would_accept(self, token: Token) -> bool:
        """Whether the parser accepts `token` now (tried on a copy: an LALR
        table can list a token that a reduction then turns away)."""
        if not self.g.accepts(self.state.position, token.type):
            return False
        try:
            trial_copy(self.state).feed_token(token)
        except UnexpectedToken:
            return False
        return True

    def _too_deep(self, token: Token) -> None:
        """Cut the parser stack in half and skip the rest of the nesting."""
        self._report(self._token_span(token), "nested too deeply", force=True, code="nesting")
        values = list(self.state.value_stack)
        keep = MAX_STACK_DEPTH // 2
        del self.state.state_stack[keep:]
        del self.state.value_stack[keep - 1 :]
        self.skipping = self._pop_to_anchor()
        # The brackets still open in the dropped part close later; skip them.
        dropped = values[len(self.state.value_stack) :]
        self.skip_depth = sum(isinstance(v, Token) and v.type in self.g.openers for v in dropped)

    def _close_blocks_before(self, token: Token) -> bool:
        """A missing '}': see recovery.close_blocks()."""
        if token.column != 1 or token.type == self.g.RBRACE:
            return False
        if not self.g.accepts(self.state.position, self.g.RBRACE):
            return False
        repair = self.repairs.close_blocks(self.state, self.lexer_state, token)
        if repair is None:
            return False
        self._apply(repair, token, f"expected {self.g.display[self.g.RBRACE]}", Span(self.last_end, self.last_end))
        return True

    def _recover(self, token: Token) -> None:
        repair = self.repairs.best(self.state, self.lexer_state, token)
        if repair is None:
            self._report(self._token_span(token), self.messages.unexpected(self.state, token), self.messages.hints(self.state, token))
            self._panic_from(token)
            return
        if repair.delete or repair.insert[0] == "MISSING":
            span = self._token_span(token)
            message = self.messages.unexpected(self.state, token, expression=not repair.delete)
        else:
            span = Span(self.last_end, self.last_end)
            message = f"expected {self.g.display[repair.insert[0]]}"
        self._apply(repair, token, message, span)

    def _apply(self, repair, token: Token, message: str, span: Span) -> None:
        self._report(span, message, self.messages.hints(self.state, token))
        if repair.score >= CONFIDENT:
            # The edit let the tokens after it parse, so the parser is back on
            # track: a mistake right after this one is a real one.
            self.accepted_since_error = QUIET_AFTER_ERROR
        for terminal in repair.insert:
            self._try_feed(self.g.synthetic(terminal, self.last_end if terminal != "MISSING" else token.start_pos))
        if repair.delete:
            self._skip_past(token)
        else:
            self._rewind(token)  # the token is lexed again in the new state

    def _panic_from(self, token: Token) -> None:
        """Pop to the nearest anchor; then go on with `token` if the anchor
        accepts it, or skip from after it."""
        kind = self._pop_to_anchor()
        if self._try_feed(token):
            return
        if kind == _TOP and token.type == self.g.LBRACE:
            # A body whose header did not parse: keep the body.
            self._error_header(token)
            return
        self.skipping = kind
        self.skip_depth = 1 if token.type in self.g.openers else 0

    def _error_header(self, brace: Token) -> None:
        """Parse the body at `brace` under an attach point marked as an error."""
        self.state.feed_token(self.g.synthetic("ATTACH_POINT", brace.start_pos))
        self.skipping = None
        self._rewind(brace)

    def _pop_to_anchor(self) -> str:
        stack, values = self.state.state_stack, self.state.value_stack
        while len(stack) > 1:
            kind = self._anchor_kind(stack[-1])
            if kind:
                return kind
            stack.pop()
            values.pop()
        return _TOP

    def _anchor_kind(self, state) -> str | None:
        if state in self.g.block_anchors:
            return _BLOCK
        if state in self.g.head_anchors:
            return _HEAD
        if state in self.g.top_anchors:
            return _TOP
        return None

    def _skip(self, token: Token) -> None:
        """Skip one token while resynchronising; resume at a safe point."""
        g = self.g
        kind = token.type
        at_depth_zero = self.skip_depth == 0
        if kind in g.openers and not (at_depth_zero and kind == g.LBRACE):
            self.skip_depth += 1
            return
        if kind in g.closers and self.skip_depth > 0:
            self.skip_depth -= 1
            return
        if not at_depth_zero:
            return
        anchor = self.skipping
        if anchor == _TOP and kind == g.LBRACE:
            self._error_header(token)
            return
        if anchor == _BLOCK:
            resume = kind in (g.SEMI, g.RBRACE, g.LBRACE) or kind in g.statement_keywords
        elif anchor == _HEAD:
            resume = kind == g.LBRACE
        else:
            resume = token.column == 1 or kind in g.item_keywords
        if resume:
            self.skipping = None
            self._rewind(token)

    def _finish(self):
        """Feed the end of input, closing whatever is still open."""
        self._check_comments()
        end = self.g.synthetic("$END", self.end)
        reported = False
        for _ in range(4 * len(self.state.state_stack) + 100):
            if self.g.accepts(self.state.position, "$END"):
                try:
                    return self.state.feed_token(end, True)
                except UnexpectedToken:
                    pass
            closers = [self.g.synthetic(t, self.end) for t in self.g.eof_closers]
            if not reported:
                closer = next((c for c in closers if self._would_accept(c)), None)
                if closer is not None:
                    message = f"unexpected end of file, expected {self.g.display[closer.type]}"
                else:
                    message = self.messages.unexpected(self.state, end)
                self._report(Span(self.last_end, self.last_end), message)
                reported = True
            if not any(self._try_feed(closer) for closer in closers) and len(self.state.state_stack) > 1:
                self.state.state_stack.pop()
                self.state.value_stack.pop()
        # Not reached in practice: the start state accepts the end of input.
        del self.state.state_stack[1:]
        del self.state.value_stack[:]
        return self.state.feed_token(end, True)

    def _check_comments(self) -> None:
        """An unclosed /* runs to the end of the input: say so before the
        parser complains about the end of input."""
        for token in self.comment_tokens:
            if token.type == "BLOCK_COMMENT" and (not str(token).endswith("*/") or str(token) == "/*/"):
                self._report(self._token_span(token), "unterminated comment")
                return

    # --------------------------------------------------------- reporting

    def _report(self, span: Span, message: str, hints=(), force=False, code="syntax") -> None:
        quiet = self.accepted_since_error < QUIET_AFTER_ERROR
        self.accepted_since_error = 0
        if quiet and not force:
            return
        self.errors += 1
        self.sink.error(code, message, span, hints=hints)

    @staticmethod
    def _token_span(token: Token) -> Span:
        return Span(token.start_pos, max(token.start_pos, token.end_pos))

    def _comments(self) -> list[ast.Comment]:
        comments = {}
        for tok in self.comment_tokens:  # a rewind may lex a comment twice
            comments.setdefault(tok.start_pos, ast.Comment(self._token_span(tok), decode(str(tok)), tok.type == "BLOCK_COMMENT"))
        return [comments[start] for start in sorted(comments)]


def _escaped_at_end(body: str) -> bool:
    """True if `body` ends with an odd number of backslashes."""
    return (len(body) - len(body.rstrip("\\"))) % 2 == 1
