/*
 * privdrop — run a command as another user: the privilege-drop step of a container
 * entrypoint ("chown the data directory as root, then become the service user").
 *
 *     privdrop USER[:GROUP] COMMAND [ARG]...
 *
 * USER and GROUP are names (looked up in /etc/passwd and /etc/group) or numbers. The
 * supplementary groups become USER's groups from /etc/group, HOME becomes USER's home
 * directory, and COMMAND replaces this process (execvp: PATH is searched, the PID and
 * signals stay the command's own) — behaving like su-exec and gosu, without a setuid bit,
 * a shell, PAM or a second process. Installed also as `su-exec` and `gosu`.
 *
 * Exit status: 1 for a usage or lookup error, 126/127 when COMMAND cannot be run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "privdrop"
#define VERSION "1.0"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " USER[:GROUP] COMMAND [ARG]...\n"
            "Run COMMAND as USER (and GROUP), replacing this process.\n");
}

/* parse_id reads a whole decimal id; returns 0 when text is not one. */
static int parse_id(const char *text, unsigned long *id)
{
    char *end;
    if (*text < '0' || *text > '9')
        return 0;
    errno = 0;
    *id = strtoul(text, &end, 10);
    return errno == 0 && *end == '\0' && *id <= (unsigned long)UINT_MAX - 1;
}

static void die(const char *what, const char *name)
{
    fprintf(stderr, PROG ": %s '%s'\n", what, name);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        puts(PROG " " VERSION);
        return 0;
    }
    if (argc < 3) {
        usage(stderr);
        return 1;
    }

    char *user = argv[1];
    char *group = strchr(user, ':');
    if (group)
        *group++ = '\0';

    unsigned long number;
    uid_t uid;
    gid_t gid;
    struct passwd *pw = NULL;
    if (*user == '\0') {
        /* ":GROUP" keeps the current user and changes only the group. */
        uid = getuid();
        pw = getpwuid(uid);
    } else {
        pw = getpwnam(user);
        if (!pw && parse_id(user, &number))
            pw = getpwuid((uid_t)number);
        if (!pw && !parse_id(user, &number))
            die("unknown user", user);
        uid = pw ? pw->pw_uid : (uid_t)number;
    }
    /* Without a passwd entry the group defaults to the user's number, never to root. */
    gid = pw ? pw->pw_gid : (gid_t)uid;

    if (group && *group) {
        struct group *gr = getgrnam(group);
        if (gr)
            gid = gr->gr_gid;
        else if (parse_id(group, &number))
            gid = (gid_t)number;
        else
            die("unknown group", group);
    }

    /* Supplementary groups: the user's memberships when it has a name, else just gid. */
    gid_t groups[NGROUPS_MAX];
    int ngroups = NGROUPS_MAX;
    if (pw && !(group && *group)) {
        if (getgrouplist(pw->pw_name, gid, groups, &ngroups) < 0)
            ngroups = NGROUPS_MAX;
    } else {
        groups[0] = gid;
        ngroups = 1;
    }

    if (setgroups((size_t)ngroups, groups) < 0 && getuid() == 0) {
        perror(PROG ": setgroups");
        return 1;
    }
    if (setgid(gid) < 0) {
        perror(PROG ": setgid");
        return 1;
    }
    if (setuid(uid) < 0) {
        perror(PROG ": setuid");
        return 1;
    }
    /* Refuse to go on if root could be regained: the drop must be for good. */
    if (uid != 0 && setuid(0) == 0) {
        fprintf(stderr, PROG ": could still become root after dropping privileges\n");
        return 1;
    }
    if (pw && pw->pw_dir && *pw->pw_dir)
        setenv("HOME", pw->pw_dir, 1);

    execvp(argv[2], argv + 2);
    fprintf(stderr, PROG ": %s: %s\n", argv[2], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
