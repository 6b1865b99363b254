/*
 * The boot arguments: a copy of the Multiboot command line, made by
 * i386_init while the loader's memory is still intact, and a word
 * lookup for the options drivers and the kernel check.
 */
#include <sys/systm.h>
#include <kern/bootargs.h>
#include <kern/selftest.h>

/* Written once during boot, before any other thread runs; read-only after. */
static char boot_args_buf[BOOT_ARGS_MAX];

void
boot_args_set(const char *cmdline)
{
	if (cmdline == NULL)
		cmdline = "";
	strlcpy(boot_args_buf, cmdline, sizeof(boot_args_buf));
}

const char *
boot_args(void)
{
	return boot_args_buf;
}

/* Is `word` one of the space-separated words of `args`? */
static bool
boot_args_has_word(const char *args, const char *word)
{
	size_t len = strlen(word);
	const char *p = args;

	if (len == 0)
		return false;
	while ((p = strstr(p, word)) != NULL) {
		bool starts = (p == args || p[-1] == ' ');
		bool ends = (p[len] == '\0' || p[len] == ' ');

		if (starts && ends)
			return true;
		p += len;
	}
	return false;
}

bool
boot_arg_present(const char *word)
{
	return boot_args_has_word(boot_args_buf, word);
}

/* QEMU passes the kernel's path first, then -append's words. */
static int
test_boot_args_words(void)
{
	const char *args = "/images/finch.elf e1000echo  debug=1";

	ST_ASSERT(boot_args_has_word(args, "e1000echo"));
	ST_ASSERT(boot_args_has_word(args, "debug=1"));
	ST_ASSERT(boot_args_has_word(args, "/images/finch.elf"));
	ST_ASSERT(!boot_args_has_word(args, "e1000"));	/* a prefix only */
	ST_ASSERT(!boot_args_has_word(args, "echo"));	/* a suffix only */
	ST_ASSERT(!boot_args_has_word(args, "debug"));
	ST_ASSERT(!boot_args_has_word(args, ""));
	ST_ASSERT(!boot_args_has_word("", "e1000echo"));
	ST_ASSERT(boot_args_has_word("e1000echo", "e1000echo"));
	return 0;
}
SELFTEST(boot_args_words, test_boot_args_words);
