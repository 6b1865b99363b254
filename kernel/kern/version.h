/*
 * The kernel's version and build id.  The host's build step generates
 * their definitions for every link, so the build id changes with every
 * build; the host link's handshake (and `version`) reports it.
 */
#ifndef _KERN_VERSION_H_
#define _KERN_VERSION_H_

extern const char finch_version[];	/* "0.1.0" */
extern const char finch_build_id[];	/* 16 hex digits, new every link */
extern const char finch_build_date[];	/* "2026-11-23T12:00:00Z" */

#endif /* _KERN_VERSION_H_ */
