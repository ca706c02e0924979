/*
 * The lexical pieces of HTTP field values (RFC 9110 5.6): tokens, quoted
 * strings, optional white space. The header parsers of limits.c and
 * shape.c are built from these, so a list is read the same way everywhere.
 */
#include <ctype.h>
#include <string.h>

#include "http/http.h"

int
lex_tchar(int c)
{
	return c > 0 && c < 0x7f &&
	    (isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

size_t
lex_token(const char **p)
{
	const char *s = *p;

	while (lex_tchar((unsigned char)**p))
		(*p)++;
	return (size_t)(*p - s);
}

int
lex_quoted(const char **p)
{
	const char *s = *p;

	if (*s++ != '"')
		return -1;
	for (; *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '\0' ||
		    ((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return -1;
	}
	*p = s + 1;
	return 0;
}

void
lex_ows(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

int
lex_param(const char **p, const char **name, size_t *namelen)
{
	lex_ows(p);
	if (**p != ';')
		return 0;
	(*p)++;
	lex_ows(p);
	*name = *p;
	if ((*namelen = lex_token(p)) == 0 || **p != '=')
		return -1;
	(*p)++;
	return 1;
}
