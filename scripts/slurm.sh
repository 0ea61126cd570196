#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for the Slurm executor's tests.
#   scripts/slurm.sh up     installs Slurm and MUNGE from Debian's packages when missing (needs
#                           root or sudo, and apt), writes a one-node config, starts the daemons,
#                           and waits until the node takes jobs; does nothing if it already does
#   scripts/slurm.sh down   stops the daemons `up` started
#   scripts/slurm.sh status exits 0 when the cluster takes jobs
# The recipe is Slurm 22.05 without systemd, cgroups or accounting (poll with squeue/scontrol).
set -euo pipefail

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo -n"
state=/run/evoflow-slurm   # the PIDs of the daemons `up` started

ready() {
  command -v sinfo >/dev/null && timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'
}

install() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && return
  command -v apt-get >/dev/null || { echo "slurm.sh: no Slurm and no apt-get to install it" >&2; exit 1; }
  {
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends slurm-wlm munge
  } >&2
}

configure() {
  local host cpus
  host=$(hostname -s)
  # Slots, not cores: test jobs are mostly short waits, and the scheduler starts a job only
  # where a CPU is free, so a 2-core machine would run the tests' jobs two by two.
  cpus=$(( $(nproc) < 16 ? 16 : $(nproc) ))
  $sudo mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /run/munge "$state"
  if [ ! -f /etc/munge/munge.key ]; then
    $sudo dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
  $sudo chown munge:munge /etc/munge/munge.key /run/munge
  $sudo chmod 400 /etc/munge/munge.key
  # Rewritten only when it is ours (or absent): a machine's own cluster config is never touched.
  if [ ! -f /etc/slurm/slurm.conf ] || grep -q '^# evoflow one-node cluster' /etc/slurm/slurm.conf; then
    # A job without --mem then takes 1 GiB a CPU, not the whole node.
    $sudo tee /etc/slurm/slurm.conf >/dev/null <<CONF
# evoflow one-node cluster (scripts/slurm.sh)
ClusterName=evo
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=300
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SlurmdParameters=config_overrides
NodeName=$host CPUs=$cpus RealMemory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 )) State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  fi
}

start() {
  pgrep -x munged >/dev/null || $sudo munged -f
  pgrep -x slurmctld >/dev/null || { $sudo slurmctld; pgrep -xn slurmctld | $sudo tee "$state/slurmctld.pid" >/dev/null; }
  pgrep -x slurmd >/dev/null || { $sudo slurmd; pgrep -xn slurmd | $sudo tee "$state/slurmd.pid" >/dev/null; }
  for _ in $(seq 1 60); do
    if ready; then return; fi
    # A node left down by an earlier test (or a reboot) is brought back.
    timeout 5 scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    sleep 0.5
  done
  echo "slurm.sh: the cluster did not come up; sinfo says:" >&2
  sinfo >&2 || true
  exit 1
}

case "${1:-}" in
  up)
    ready && exit 0
    install
    configure
    start
    ;;
  down)
    for daemon in slurmd slurmctld; do
      if [ -f "$state/$daemon.pid" ]; then
        $sudo kill "$(cat "$state/$daemon.pid")" 2>/dev/null || true
        $sudo rm -f "$state/$daemon.pid"
      fi
    done
    ;;
  status)
    ready
    ;;
  *)
    echo "usage: scripts/slurm.sh up|down|status" >&2
    exit 2
    ;;
esac
