/*
** tokenize.c - splits SQL text into tokens for the lemon parser, and drives
** the parser over a whole script (sl_parse_script).
**
** Tokens follow SQLite's lexical rules: identifiers (bare, "double-quoted",
** `backquoted`, [bracketed]), 'strings' with '' escapes, x'hex' blobs,
** integers, reals and 0x hex integers, -- and C comments, and the operators of
** the dialect (including -> ->> and the option arrow =>).  Positions are
** counted here so every token knows its line and column.
*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "parse.h"

/* The lemon parser's entry points (generated into parse.c). */
void *sl_parserAlloc(void *(*mallocProc)(size_t));
void sl_parserFree(void *p, void (*freeProc)(void *));
void sl_parser(void *yyp, int yymajor, sl_token yyminor, sl_parse *pParse);

typedef struct kw {
  const char *name;
  int code;
} kw;

/* Every keyword, sorted by name for bsearch. */
static const kw keywords[] = {
    {"ABORT", TK_ABORT},
    {"ALL", TK_ALL},
    {"AND", TK_AND},
    {"AS", TK_AS},
    {"ASC", TK_ASC},
    {"BETWEEN", TK_BETWEEN},
    {"BY", TK_BY},
    {"CASE", TK_CASE},
    {"CAST", TK_CAST},
    {"CHANGES", TK_CHANGES},
    {"CLOSE", TK_CLOSE},
    {"COLLATE", TK_COLLATE},
    {"COLUMNS", TK_COLUMNS},
    {"CREATE", TK_CREATE},
    {"CROSS", TK_CROSS},
    {"CURRENT", TK_CURRENT},
    {"DELETE", TK_DELETE},
    {"DESC", TK_DESC},
    {"DESCRIBE", TK_DESCRIBE},
    {"DESCRIPTOR", TK_DESCRIPTOR},
    {"DISTINCT", TK_DISTINCT},
    {"DROP", TK_DROP},
    {"ELSE", TK_ELSE},
    {"EMIT", TK_EMIT},
    {"END", TK_END},
    {"ESCAPE", TK_ESCAPE},
    {"EXCEPT", TK_EXCEPT},
    {"EXISTS", TK_EXISTS},
    {"EXPLAIN", TK_EXPLAIN},
    {"EXPORT", TK_EXPORT},
    {"EXTRACT", TK_EXTRACT},
    {"FALSE", TK_FALSE},
    {"FILTER", TK_FILTER},
    {"FIRST", TK_FIRST},
    {"FOLLOWING", TK_FOLLOWING},
    {"FOR", TK_FOR},
    {"FROM", TK_FROM},
    {"FULL", TK_FULL},
    {"FUNCTIONS", TK_FUNCTIONS},
    {"GLOB", TK_LIKE_KW},
    {"GROUP", TK_GROUP},
    {"GROUPS", TK_GROUPS},
    {"HAVING", TK_HAVING},
    {"IF", TK_IF},
    {"IN", TK_IN},
    {"INNER", TK_INNER},
    {"INSERT", TK_INSERT},
    {"INTERSECT", TK_INTERSECT},
    {"INTERVAL", TK_INTERVAL},
    {"INTO", TK_INTO},
    {"IS", TK_IS},
    {"ISNULL", TK_ISNULL},
    {"JOIN", TK_JOIN},
    {"KEY", TK_KEY},
    {"LAST", TK_LAST},
    {"LEFT", TK_LEFT},
    {"LIKE", TK_LIKE_KW},
    {"LIMIT", TK_LIMIT},
    {"LOAD", TK_LOAD},
    {"MATCH", TK_MATCH},
    {"MODEL", TK_MODEL},
    {"MODELS", TK_MODELS},
    {"NATURAL", TK_NATURAL},
    {"NOT", TK_NOT},
    {"NOTNULL", TK_NOTNULL},
    {"NULL", TK_NULL},
    {"NULLS", TK_NULLS},
    {"OF", TK_OF},
    {"OFFSET", TK_OFFSET},
    {"ON", TK_ON},
    {"OR", TK_OR},
    {"ORDER", TK_ORDER},
    {"OUTER", TK_OUTER},
    {"OVER", TK_OVER},
    {"PARTITION", TK_PARTITION},
    {"PRECEDING", TK_PRECEDING},
    {"PRIMARY", TK_PRIMARY},
    {"QUERIES", TK_QUERIES},
    {"QUERY", TK_QUERY},
    {"RANGE", TK_RANGE},
    {"REGEXP", TK_LIKE_KW},
    {"REPLACE", TK_REPLACE},
    {"RIGHT", TK_RIGHT},
    {"ROW", TK_ROW},
    {"ROWS", TK_ROWS},
    {"SELECT", TK_SELECT},
    {"SET", TK_SET},
    {"SHOW", TK_SHOW},
    {"STREAM", TK_STREAM},
    {"STREAMS", TK_STREAMS},
    {"SYSTEM_TIME", TK_SYSTEM_TIME},
    {"TABLE", TK_TABLE},
    {"TABLES", TK_TABLES},
    {"TEMP", TK_TEMP},
    {"TEMPORARY", TK_TEMP},
    {"TERMINATE", TK_TERMINATE},
    {"THEN", TK_THEN},
    {"TO", TK_TO},
    {"TRUE", TK_TRUE},
    {"TYPE", TK_TYPE},
    {"UNBOUNDED", TK_UNBOUNDED},
    {"UNION", TK_UNION},
    {"UPDATE", TK_UPDATE},
    {"USING", TK_USING},
    {"VALUES", TK_VALUES},
    {"VIEW", TK_VIEW},
    {"WATERMARK", TK_WATERMARK},
    {"WHEN", TK_WHEN},
    {"WHERE", TK_WHERE},
    {"WINDOW", TK_WINDOW},
    {"WITH", TK_WITH},
};

const char *sl_keyword_name(int i) {
  return i >= 0 && i < (int)SL_ARRAY_SIZE(keywords) ? keywords[i].name : NULL;
}

int sl_keyword_code(const char *z, int n) {
  int lo = 0, hi = (int)SL_ARRAY_SIZE(keywords) - 1;
  if (n > 16) return TK_ID;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    const char *k = keywords[mid].name;
    int c = sl_strnicmp(z, k, (size_t)n);
    if (c == 0 && k[n] != 0) c = -1; /* z is a proper prefix of k */
    if (c == 0) return keywords[mid].code;
    if (c < 0)
      hi = mid - 1;
    else
      lo = mid + 1;
  }
  return TK_ID;
}

static int is_idchar(unsigned char c) {
  return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

int sl_get_token(const char *z, int *tk) {
  const unsigned char *s = (const unsigned char *)z;
  int i;
  switch (s[0]) {
  case ' ':
  case '\t':
  case '\n':
  case '\r':
  case '\f':
    for (i = 1; s[i] && strchr(" \t\n\r\f", s[i]); i++) {
    }
    *tk = TK_SPACE;
    return i;
  case '-':
    if (s[1] == '-') {
      for (i = 2; s[i] && s[i] != '\n'; i++) {
      }
      *tk = TK_SPACE;
      return i;
    }
    if (s[1] == '>') {
      *tk = TK_PTR;
      return s[2] == '>' ? 3 : 2;
    }
    *tk = TK_MINUS;
    return 1;
  case '/':
    if (s[1] == '*') {
      for (i = 2; s[i] && !(s[i] == '*' && s[i + 1] == '/'); i++) {
      }
      *tk = TK_SPACE;
      return s[i] ? i + 2 : i;
    }
    *tk = TK_SLASH;
    return 1;
  case '(': *tk = TK_LP; return 1;
  case ')': *tk = TK_RP; return 1;
  case ';': *tk = TK_SEMI; return 1;
  case '+': *tk = TK_PLUS; return 1;
  case '*': *tk = TK_STAR; return 1;
  case '%': *tk = TK_REM; return 1;
  case ',': *tk = TK_COMMA; return 1;
  case '&': *tk = TK_BITAND; return 1;
  case '~': *tk = TK_BITNOT; return 1;
  case '=':
    if (s[1] == '>') {
      *tk = TK_ARROW;
      return 2;
    }
    *tk = TK_EQ;
    return s[1] == '=' ? 2 : 1;
  case '<':
    if (s[1] == '=') {
      *tk = TK_LE;
      return 2;
    }
    if (s[1] == '>') {
      *tk = TK_NE;
      return 2;
    }
    if (s[1] == '<') {
      *tk = TK_LSHIFT;
      return 2;
    }
    *tk = TK_LT;
    return 1;
  case '>':
    if (s[1] == '=') {
      *tk = TK_GE;
      return 2;
    }
    if (s[1] == '>') {
      *tk = TK_RSHIFT;
      return 2;
    }
    *tk = TK_GT;
    return 1;
  case '!': *tk = s[1] == '=' ? TK_NE : TK_ILLEGAL; return 2 - (s[1] != '=');
  case '|':
    if (s[1] == '|') {
      *tk = TK_CONCAT;
      return 2;
    }
    *tk = TK_BITOR;
    return 1;
  case '\'':
  case '"':
  case '`': {
    unsigned char q = s[0];
    for (i = 1; s[i]; i++) {
      if (s[i] == q) {
        if (s[i + 1] == q) {
          i++;
          continue;
        }
        break;
      }
    }
    if (!s[i]) {
      *tk = TK_ILLEGAL; /* unterminated */
      return i;
    }
    *tk = q == '\'' ? TK_STRING : TK_ID;
    return i + 1;
  }
  case '[':
    for (i = 1; s[i] && s[i] != ']'; i++) {
    }
    *tk = s[i] ? TK_ID : TK_ILLEGAL;
    return s[i] ? i + 1 : i;
  case '.':
    if (!isdigit(s[1])) {
      *tk = TK_DOT;
      return 1;
    }
    /* a number like .5 */
    __attribute__((fallthrough));
  case '0':
  case '1':
  case '2':
  case '3':
  case '4':
  case '5':
  case '6':
  case '7':
  case '8':
  case '9': {
    *tk = TK_INTEGER;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit(s[2])) {
      for (i = 3; isxdigit(s[i]); i++) {
      }
    } else {
      for (i = 0; isdigit(s[i]); i++) {
      }
      if (s[i] == '.') {
        *tk = TK_FLOAT;
        for (i++; isdigit(s[i]); i++) {
        }
      }
      if ((s[i] == 'e' || s[i] == 'E') &&
          (isdigit(s[i + 1]) || ((s[i + 1] == '+' || s[i + 1] == '-') && isdigit(s[i + 2])))) {
        *tk = TK_FLOAT;
        for (i += 2; isdigit(s[i]); i++) {
        }
      }
    }
    /* A number glued to identifier characters ("12abc") is illegal. */
    if (is_idchar(s[i])) {
      while (is_idchar(s[i]))
        i++;
      *tk = TK_ILLEGAL;
    }
    return i;
  }
  case 'x':
  case 'X':
    if (s[1] == '\'') {
      for (i = 2; isxdigit(s[i]); i++) {
      }
      if (s[i] != '\'' || (i % 2) != 0) {
        while (s[i] && s[i] != '\'')
          i++;
        *tk = TK_ILLEGAL;
        return s[i] ? i + 1 : i;
      }
      *tk = TK_BLOB;
      return i + 1;
    }
    /* an identifier */
    __attribute__((fallthrough));
  default:
    if (!is_idchar(s[0]) || isdigit(s[0])) {
      *tk = TK_ILLEGAL;
      return 1;
    }
    for (i = 1; is_idchar(s[i]); i++) {
    }
    *tk = sl_keyword_code(z, i);
    return i;
  }
}

/* Advance line/column over n bytes of z. */
static void advance(const char *z, int n, int *line, int *col) {
  for (int i = 0; i < n; i++) {
    if (z[i] == '\n') {
      (*line)++;
      *col = 1;
    } else if (((unsigned char)z[i] & 0xC0) != 0x80) {
      (*col)++; /* count characters, not UTF-8 continuation bytes */
    }
  }
}

/* The code of the first token after z that is not white space or a
** comment (0 at the end of the text). */
static int peek_token(const char *z, const char **after) {
  for (;;) {
    int tk;
    if (!*z) return 0;
    int n = sl_get_token(z, &tk);
    z += n;
    if (tk != TK_SPACE) {
      if (after) *after = z;
      return tk;
    }
  }
}

/* WINDOW and OVER are keywords only where SQLite takes them for ones (its
** analyzeWindowKeyword and analyzeOverKeyword), so that both stay usable
** as names: WINDOW when a name and AS follow (a WINDOW clause), OVER after
** a ')' when '(' or a name follows (a call's window).  z is just past the
** word, last the code of the token before it. */
static int window_keyword(int tk, const char *z, int last) {
  const char *after = NULL;
  int next = peek_token(z, &after);
  if (tk == TK_WINDOW) return next == TK_ID && peek_token(after, NULL) == TK_AS ? TK_WINDOW : TK_ID;
  return last == TK_RP && (next == TK_LP || next == TK_ID) ? TK_OVER : TK_ID;
}

int sl_parse_script(sl_parse *p, const char *sql) {
  memset(p, 0, sizeof *p);
  sl_arena_init(&p->arena);
  p->sql = sql;
  void *parser = sl_parserAlloc(malloc);
  if (!parser) abort();
  const char *z = sql;
  int line = 1, col = 1;
  int last = 0; /* last token fed, to add a final ';' */
  int need_start = 1;
  while (*z && !p->err.code) {
    int tk;
    int n = sl_get_token(z, &tk);
    sl_token t = {z, n, line, col};
    if (tk == TK_ILLEGAL) {
      sl_parse_error(p, &t, "unrecognized token");
      break;
    }
    if (tk == TK_WINDOW || tk == TK_OVER) tk = window_keyword(tk, z + n, last);
    if (tk != TK_SPACE) {
      /* The parser reduces the previous statement only when it sees the
      ** first token of the next one: record the new start after that. */
      sl_parser(parser, tk, t, p);
      if (need_start) {
        p->stmt_start = z;
        p->stmt_line = line;
        p->stmt_col = col;
        need_start = 0;
      }
      last = tk;
      if (tk == TK_SEMI) need_start = 1;
    }
    advance(z, n, &line, &col);
    z += n;
  }
  if (!p->err.code) {
    sl_token t = {z, 0, line, col};
    if (last && last != TK_SEMI) sl_parser(parser, TK_SEMI, t, p);
    if (!p->err.code) sl_parser(parser, 0, t, p);
  }
  sl_parserFree(parser, free);
  return p->err.code ? -1 : 0;
}

void sl_parse_free(sl_parse *p) {
  sl_arena_free(&p->arena);
  sl_err_clear(&p->err);
  p->first = p->last = NULL;
}
