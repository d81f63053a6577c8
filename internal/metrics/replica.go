package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ReplicaState is one replica's own view, read at scrape time (replica.Replica's Status
// and Counters).
type ReplicaState struct {
	// ID and Version label the info series (the only series with a replica id).
	ID, Version string
	// Owned is how many nodes this replica owns now; LeaseLeft the time to its local
	// deadline (0: no lease).
	Owned     int
	LeaseLeft time.Duration
	// Changes counts the ownership changes this replica made, by reason.
	Changes map[string]uint64
	// RenewFailures, LeaseLosses and Fenced are running totals.
	RenewFailures, LeaseLosses, Fenced uint64
}

// ReplicaFleet is what the database says of every replica at scrape time.
type ReplicaFleet struct {
	// Live counts replicas whose lease holds by the database's clock; Unowned the nodes
	// no live replica owns (no owner, or an owner whose lease ended).
	Live, Unowned int
}

// ReplicaSources are where the replica gauges come from.
type ReplicaSources struct {
	Self  func() ReplicaState
	Fleet func(context.Context) (ReplicaFleet, error)
}

// OwnershipReasons are the reasons of ownership changes (replica.Counters): a claim of an
// unowned node, a takeover from an expired owner, a hand-off taken, a reclaim at start, a
// move between scopes, an offer to a peer. Each has a series from the start.
var OwnershipReasons = []string{"claim", "expired", "handoff", "self", "move", "offer"}

var (
	replicaInfoDesc = prometheus.NewDesc("ingot_replica_info",
		"This replica (always 1), with its id and version.", []string{"replica", "version"}, nil)
	replicasLiveDesc = prometheus.NewDesc("ingot_replicas_live",
		"Replicas whose lease holds by the database's clock.", nil, nil)
	nodesOwnedDesc = prometheus.NewDesc("ingot_nodes_owned",
		"Ironic nodes this replica owns now.", nil, nil)
	nodesUnownedDesc = prometheus.NewDesc("ingot_nodes_unowned",
		"Ironic nodes no live replica owns (no owner, or an owner whose lease ended by the database's clock).", nil, nil)
	leaseLeftDesc = prometheus.NewDesc("ingot_lease_remaining_seconds",
		"Time until this replica's local lease deadline (0: no lease; owned work has stopped).", nil, nil)
	ownershipChangesDesc = prometheus.NewDesc("ingot_ownership_changes_total",
		"Ownership changes this replica made, by reason: claim (an unowned node), expired (taken from an owner "+
			"whose lease ended), handoff (taken when offered), self (reclaimed at start), move (taken from a "+
			"replica whose scope lost the node), offer (offered to a peer).", []string{"reason"}, nil)
	fencedDesc = prometheus.NewDesc("ingot_fenced_write_rejections_total",
		"Writes for a node rejected by the database because this replica no longer owned it at the epoch it wrote with.", nil, nil)
	renewFailuresDesc = prometheus.NewDesc("ingot_lease_renew_failures_total",
		"Lease renewals of this replica that failed.", nil, nil)
	leaseLossesDesc = prometheus.NewDesc("ingot_lease_losses_total",
		"Times this replica's local lease deadline passed without a renewal (owned work stopped).", nil, nil)
)

// CollectReplica registers the collector of the replica gauges and counters, computed at
// every scrape from src. It does nothing on the zero Metrics.
func (m *Metrics) CollectReplica(src ReplicaSources) {
	if m == nil || m.reg == nil {
		return
	}
	m.reg.MustRegister(&replicaCollector{src: src})
}

type replicaCollector struct{ src ReplicaSources }

func (c *replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{replicaInfoDesc, replicasLiveDesc, nodesOwnedDesc, nodesUnownedDesc, leaseLeftDesc,
		ownershipChangesDesc, fencedDesc, renewFailuresDesc, leaseLossesDesc} {
		ch <- d
	}
}

func (c *replicaCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Self != nil {
		s := c.src.Self()
		ch <- prometheus.MustNewConstMetric(replicaInfoDesc, prometheus.GaugeValue, 1, s.ID, s.Version)
		ch <- prometheus.MustNewConstMetric(nodesOwnedDesc, prometheus.GaugeValue, float64(s.Owned))
		ch <- prometheus.MustNewConstMetric(leaseLeftDesc, prometheus.GaugeValue, max(0, s.LeaseLeft.Seconds()))
		for _, r := range OwnershipReasons {
			ch <- prometheus.MustNewConstMetric(ownershipChangesDesc, prometheus.CounterValue, float64(s.Changes[r]), r)
		}
		ch <- prometheus.MustNewConstMetric(fencedDesc, prometheus.CounterValue, float64(s.Fenced))
		ch <- prometheus.MustNewConstMetric(renewFailuresDesc, prometheus.CounterValue, float64(s.RenewFailures))
		ch <- prometheus.MustNewConstMetric(leaseLossesDesc, prometheus.CounterValue, float64(s.LeaseLosses))
	}
	if c.src.Fleet != nil {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		f, err := c.src.Fleet(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(replicasLiveDesc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(replicasLiveDesc, prometheus.GaugeValue, float64(f.Live))
		ch <- prometheus.MustNewConstMetric(nodesUnownedDesc, prometheus.GaugeValue, float64(f.Unowned))
	}
}
