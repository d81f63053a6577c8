package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ingot/internal/baremetal"
	"ingot/internal/fleet"
	"ingot/internal/ironic"
)

// Fleet holds the tracker's last listing of Ironic nodes, for the nodes-by-state gauges.
type Fleet struct {
	listing atomic.Pointer[[]ironic.Node]
}

// ObserveListing keeps nodes (a tracker pass's whole listing, which the tracker never
// changes after handing it over) as the fleet's state until the next listing.
func (f *Fleet) ObserveListing(nodes []ironic.Node) {
	if f == nil {
		return
	}
	f.listing.Store(&nodes)
}

// Sources are where the scrape-time gauges come from; a nil source's gauges are left out.
type Sources struct {
	// View returns the current in-memory view of every provider (store.DB.View).
	View func(context.Context) (*fleet.View, error)
	// Instances counts instances by state (store.DB.CountInstances).
	Instances func(context.Context) (map[baremetal.State]int, error)
}

// Collect registers the collector of the fleet and instance gauges, computed at every
// scrape from src and the Fleet's listing. It does nothing on the zero Metrics.
func (m *Metrics) Collect(src Sources) {
	if m == nil || m.reg == nil {
		return
	}
	m.reg.MustRegister(&collector{src: src, fleet: m.Fleet})
}

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 10 * time.Second

var (
	providersDesc = prometheus.NewDesc("ingot_resource_providers",
		"Resource providers in Placement.", nil, nil)
	inventoryDesc = prometheus.NewDesc("ingot_inventory_units",
		"Sum of inventory totals over every provider, by resource class.", []string{"resource_class"}, nil)
	reservedDesc = prometheus.NewDesc("ingot_inventory_reserved_units",
		"Sum of reserved units over every provider, by resource class (an Ironic node's unit is reserved "+
			"while it is in maintenance, not available, or has an instance).", []string{"resource_class"}, nil)
	usedDesc = prometheus.NewDesc("ingot_inventory_used_units",
		"Sum of allocated units over every provider, by resource class.", []string{"resource_class"}, nil)
	capacityDesc = prometheus.NewDesc("ingot_inventory_capacity_units",
		"Allocatable units, the sum of (total - reserved) x allocation_ratio over every provider, by resource class; "+
			"capacity minus used is what can still be allocated.", []string{"resource_class"}, nil)
	nodesDesc = prometheus.NewDesc("ingot_ironic_nodes",
		"Ironic nodes in the tracker's last listing, by provision state (Ironic's states, others folded into "+
			"\"other\") and maintenance.", []string{"provision_state", "maintenance"}, nil)
	instancesDesc = prometheus.NewDesc("ingot_instances",
		"Instances by state (building, active, deleting, error, deleted).", []string{"state"}, nil)
)

type collector struct {
	src   Sources
	fleet *Fleet
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{providersDesc, inventoryDesc, reservedDesc, usedDesc, capacityDesc, nodesDesc, instancesDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if c.src.View != nil {
		if v, err := c.src.View(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(providersDesc, err)
		} else {
			collectView(ch, v)
		}
	}
	if p := c.fleet.listing.Load(); p != nil {
		collectNodes(ch, *p)
	}
	if c.src.Instances != nil {
		if counts, err := c.src.Instances(ctx); err != nil {
			ch <- prometheus.NewInvalidMetric(instancesDesc, err)
		} else {
			for _, s := range baremetal.States {
				ch <- prometheus.MustNewConstMetric(instancesDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
			}
		}
	}
}

func collectView(ch chan<- prometheus.Metric, v *fleet.View) {
	ch <- prometheus.MustNewConstMetric(providersDesc, prometheus.GaugeValue, float64(v.Len()))
	for id, s := range v.Totals() {
		rc := v.ClassName(id)
		ch <- prometheus.MustNewConstMetric(inventoryDesc, prometheus.GaugeValue, float64(s.Total), rc)
		ch <- prometheus.MustNewConstMetric(reservedDesc, prometheus.GaugeValue, float64(s.Reserved), rc)
		ch <- prometheus.MustNewConstMetric(usedDesc, prometheus.GaugeValue, float64(s.Used), rc)
		ch <- prometheus.MustNewConstMetric(capacityDesc, prometheus.GaugeValue, s.Capacity, rc)
	}
}

func collectNodes(ch chan<- prometheus.Metric, nodes []ironic.Node) {
	type key struct {
		state       string
		maintenance bool
	}
	counts := map[key]int{}
	for i := range nodes {
		counts[key{provisionState(nodes[i].ProvisionState), nodes[i].Maintenance}]++
	}
	for k, n := range counts {
		maint := "false"
		if k.maintenance {
			maint = "true"
		}
		ch <- prometheus.MustNewConstMetric(nodesDesc, prometheus.GaugeValue, float64(n), k.state, maint)
	}
}

// provisionStates are Ironic's provision states (ironic/common/states.py).
var provisionStates = map[string]bool{}

func init() {
	for _, s := range []string{
		"enroll", "verifying", "manageable", "available", "active", "deploying", "wait call-back",
		"deploy failed", "deploy hold", "deploy complete", "deleting", "deleted", "cleaning", "clean wait",
		"clean failed", "clean hold", "error", "rebuild", "inspecting", "inspect wait", "inspect failed",
		"rescuing", "rescue wait", "rescue failed", "rescue", "unrescuing", "unrescue failed",
		"adopting", "adopt failed", "servicing", "service wait", "service failed", "service hold",
	} {
		provisionStates[s] = true
	}
}

// provisionState returns s when it is one of Ironic's provision states, "none" when it is
// empty (Ironic's NOSTATE), else "other": the label stays bounded whatever Ironic says.
func provisionState(s string) string {
	switch {
	case provisionStates[s]:
		return s
	case s == "":
		return "none"
	}
	return "other"
}
