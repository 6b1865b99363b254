/*
 * The boot arguments: a copy of the Multiboot command line, made by
 * i386_init while the loader's memory is still intact, and a word
 * lookup for the options drivers and the kernel check.
 */
#include <sys/systm.h>
#include <kern/bootargs.h>

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

bool
boot_arg_present(const char *word)
{
	size_t len = strlen(word);
	const char *p = boot_args_buf;

	if (len == 0)
		return false;
	while ((p = strstr(p, word)) != NULL) {
		bool starts = (p == boot_args_buf || p[-1] == ' ');
		bool ends = (p[len] == '\0' || p[len] == ' ');

		if (starts && ends)
			return true;
		p += len;
	}
	return false;
}
