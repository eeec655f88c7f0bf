# dockerTools.shadowSetup: the files groupadd and useradd need, for a runAsRoot script.
mkdir -p /etc/pam.d /root
if [ ! -f /etc/passwd ]; then
  echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd
  echo "root:!x:::::::" > /etc/shadow
fi
if [ ! -f /etc/group ]; then
  echo "root:x:0:" > /etc/group
  echo "root:x::" > /etc/gshadow
fi
[ -f /etc/shadow ] || touch /etc/shadow
[ -f /etc/gshadow ] || touch /etc/gshadow
chmod 0640 /etc/shadow /etc/gshadow
if [ ! -f /etc/pam.d/other ]; then
  cat > /etc/pam.d/other <<'EOF'
account sufficient pam_unix.so
auth sufficient pam_rootok.so
password requisite pam_unix.so nullok yescrypt
session required pam_unix.so
EOF
fi
if [ ! -f /etc/login.defs ]; then
  cat > /etc/login.defs <<'EOF'
UID_MIN 1000
UID_MAX 60000
SYS_UID_MIN 100
SYS_UID_MAX 999
GID_MIN 1000
GID_MAX 60000
SYS_GID_MIN 100
SYS_GID_MAX 999
ENCRYPT_METHOD YESCRYPT
EOF
fi
