#!/bin/bash
# A one-node Slurm check of "cyclegan sweep -slurm": installs Debian's Slurm
# and munge, configures this host as a one-node cluster (no cgroups, no
# accounting), starts munged, slurmctld and slurmd directly (no systemd
# needed), builds cyclegan, makes a sweep of two tiny runs (standard and
# gradcam, one seed), submits its job array with sbatch, waits for it,
# prints the tasks' logs and the comparison, and stops the daemons.
#
# Needs root and Debian (apt-get). Writes /etc/slurm/slurm.conf (the old one
# is kept as slurm.conf.before-slurm-local) and works in $WORK
# (default /tmp/slurm-local).
#
#   sudo scripts/slurm-local.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-/tmp/slurm-local}
if [ "$(id -u)" != 0 ]; then
	echo "slurm-local.sh: needs root (it installs packages and starts daemons)" >&2
	exit 1
fi

echo "== install slurm-wlm and munge"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null
dpkg-query -W slurm-wlm munge

host=$(hostname -s)
cpus=$(nproc)
echo "== slurm.conf for one node: $host, $cpus CPUs"
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
if [ -f /etc/slurm/slurm.conf ] && [ ! -f /etc/slurm/slurm.conf.before-slurm-local ]; then
	cp /etc/slurm/slurm.conf /etc/slurm/slurm.conf.before-slurm-local
fi
cat >/etc/slurm/slurm.conf <<EOF
ClusterName=local
SlurmctldHost=$host
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
cat /etc/slurm/slurm.conf

stop() {
	echo "== stop the daemons"
	scontrol shutdown 2>/dev/null || true
	sleep 2
	for f in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
		if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
			kill "$(cat "$f")" || true
		fi
	done
}
trap stop EXIT

echo "== start munged, slurmctld, slurmd"
if [ ! -s /etc/munge/munge.key ]; then
	mungekey --create --keyfile /etc/munge/munge.key
	chown munge:munge /etc/munge/munge.key
	chmod 400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 755 /run/munge
install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
runuser -u munge -- /usr/sbin/munged
munge -n | unmunge | grep STATUS
slurmctld
slurmd
for _ in $(seq 30); do
	if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed)'; then
		break
	fi
	sleep 1
done
sinfo

echo "== build cyclegan"
mkdir -p "$work"
(cd "$repo" && go build -o "$work/cyclegan" ./cmd/cyclegan)

echo "== the sweep: two tiny runs, one task each"
cd "$work"
rm -rf sweeps/slurmcheck checkpoints/slurmcheck_* results/slurmcheck_*
./cyclegan sweep -sweep slurmcheck -presets standard,gradcam -seeds 1 \
	-ngf 4 -ndf 4 -n_blocks 1 -n_epochs 1 -n_epochs_decay 0 -max_dataset_size 4 -crop_size 32 -load_size 36 -quiet \
	-slurm -cpus_per_task 1 -time 0:20:00
cat sweeps/slurmcheck/sweep.sbatch

echo "== sbatch"
job=$(sbatch --parsable sweeps/slurmcheck/sweep.sbatch)
echo "submitted job array $job"
for _ in $(seq 300); do
	squeue -h -j "$job" -o '%i %T %M %R' 2>/dev/null || true
	if [ -z "$(squeue -h -j "$job" 2>/dev/null)" ]; then
		break
	fi
	sleep 2
done
echo "== the tasks' states (no accounting database: scontrol, while Slurm keeps the finished jobs)"
scontrol show job "$job" | grep -E 'JobId=|JobState=|ExitCode=|RunTime=' || true

echo "== the tasks' logs"
for f in sweeps/slurmcheck/logs/*.out; do
	echo "--- $f"
	cat "$f"
done

echo "== the sweep again, here: every run is done"
./cyclegan sweep -sweep slurmcheck -presets standard,gradcam -seeds 1 \
	-ngf 4 -ndf 4 -n_blocks 1 -n_epochs 1 -n_epochs_decay 0 -max_dataset_size 4 -crop_size 32 -load_size 36 -quiet

echo "== compare"
./cyclegan compare -sweep slurmcheck -num_test 1
cat sweeps/slurmcheck/compare/compare.csv
ls sweeps/slurmcheck sweeps/slurmcheck/compare
