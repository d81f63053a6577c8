package fleet

import (
	"sort"
	"sync/atomic"
	"time"

	"ingot/internal/placement"
)

// Provider is one resource provider in a View. Its slices are sorted and must not be
// modified.
type Provider struct {
	ID         int64
	UUID       string
	Name       string
	Generation int64
	ParentID   int64 // 0 for a root
	RootID     int64 // the provider's own ID for a root
	CreatedAt  int64 // microseconds since the epoch
	UpdatedAt  int64
	// Inventories are sorted by class id.
	Inventories []Inventory
	// Traits are trait ids, sorted.
	Traits []int64
	// Aggregates are aggregate UUIDs, sorted.
	Aggregates []string
}

// Inventory is one class's inventory on a provider and the amount allocated.
type Inventory struct {
	ClassID int64
	placement.Inventory
	Used int64
}

// Inventory returns the provider's inventory of the class, if any.
func (p *Provider) Inventory(classID int64) (Inventory, bool) {
	if len(p.Inventories) <= 8 { // the usual case: a scan beats a binary search
		for i := range p.Inventories {
			if c := p.Inventories[i].ClassID; c >= classID {
				if c == classID {
					return p.Inventories[i], true
				}
				break
			}
		}
		return Inventory{}, false
	}
	i := sort.Search(len(p.Inventories), func(i int) bool { return p.Inventories[i].ClassID >= classID })
	if i < len(p.Inventories) && p.Inventories[i].ClassID == classID {
		return p.Inventories[i], true
	}
	return Inventory{}, false
}

// Fits reports whether amount more of the class fits on the provider.
func (p *Provider) Fits(classID, amount int64) bool {
	inv, ok := p.Inventory(classID)
	return ok && inv.Fits(inv.Used, amount)
}

// HasTrait reports whether the provider has the trait.
func (p *Provider) HasTrait(id int64) bool {
	if len(p.Traits) <= 8 {
		for _, t := range p.Traits {
			if t >= id {
				return t == id
			}
		}
		return false
	}
	i := sort.Search(len(p.Traits), func(i int) bool { return p.Traits[i] >= id })
	return i < len(p.Traits) && p.Traits[i] == id
}

// InAggregate reports whether the provider is directly in the aggregate.
func (p *Provider) InAggregate(uuid string) bool {
	i := sort.SearchStrings(p.Aggregates, uuid)
	return i < len(p.Aggregates) && p.Aggregates[i] == uuid
}

// Modified is the provider's last modification time.
func (p *Provider) Modified() time.Time {
	if p.UpdatedAt != 0 {
		return time.UnixMicro(p.UpdatedAt).UTC()
	}
	return time.UnixMicro(p.CreatedAt).UTC()
}

// structurallyEqual reports whether p and q have the same tree position, traits and
// aggregates: what the derived indexes depend on.
func structurallyEqual(p, q *Provider) bool {
	if p.ID != q.ID || p.ParentID != q.ParentID || p.RootID != q.RootID ||
		len(p.Traits) != len(q.Traits) || len(p.Aggregates) != len(q.Aggregates) {
		return false
	}
	for i := range p.Traits {
		if p.Traits[i] != q.Traits[i] {
			return false
		}
	}
	for i := range p.Aggregates {
		if p.Aggregates[i] != q.Aggregates[i] {
			return false
		}
	}
	return true
}

// Catalog maps resource class and trait names to ids and back.
type Catalog struct {
	ClassIDs   map[string]int64
	ClassNames map[int64]string
	TraitIDs   map[string]int64
	TraitNames map[int64]string
}

// View is every provider as of change sequence Seq.
type View struct {
	// Seq is the change sequence number the view reflects.
	Seq int64

	catalog   *Catalog
	providers []*Provider // by slot; nil where a provider was deleted
	slotOf    map[int64]int32
	byUUID    map[string]int32
	count     int

	idx atomic.Pointer[index]
}

// New builds a view of the providers at seq.
func New(seq int64, catalog *Catalog, providers []*Provider) *View {
	sort.Slice(providers, func(i, j int) bool { return providers[i].ID < providers[j].ID })
	v := &View{Seq: seq, catalog: catalog, providers: providers,
		slotOf: make(map[int64]int32, len(providers)), byUUID: make(map[string]int32, len(providers)), count: len(providers)}
	for i, p := range providers {
		v.slotOf[p.ID] = int32(i)
		v.byUUID[p.UUID] = int32(i)
	}
	return v
}

// With returns the successor of v at seq: the providers in changed replace (or are added
// to) v's, the ids in deleted are removed, and catalog (when not nil) replaces v's.
func (v *View) With(seq int64, catalog *Catalog, changed []*Provider, deleted []int64) *View {
	w := &View{Seq: seq, catalog: v.catalog, providers: append([]*Provider(nil), v.providers...),
		slotOf: v.slotOf, byUUID: v.byUUID, count: v.count}
	if catalog != nil {
		w.catalog = catalog
	}
	structural := catalog != nil
	copied := false
	copyMaps := func() {
		if copied {
			return
		}
		copied = true
		w.slotOf = make(map[int64]int32, len(v.slotOf)+len(changed))
		for k, s := range v.slotOf {
			w.slotOf[k] = s
		}
		w.byUUID = make(map[string]int32, len(v.byUUID)+len(changed))
		for k, s := range v.byUUID {
			w.byUUID[k] = s
		}
	}
	sort.Slice(changed, func(i, j int) bool { return changed[i].ID < changed[j].ID })
	var added []*Provider
	for _, p := range changed {
		s, had := w.slotOf[p.ID]
		if !had {
			added = append(added, p)
			continue
		}
		old := w.providers[s]
		if old.UUID != p.UUID {
			copyMaps()
			delete(w.byUUID, old.UUID)
			w.byUUID[p.UUID] = s
		}
		if !structurallyEqual(old, p) {
			structural = true
		}
		w.providers[s] = p
	}
	for _, id := range deleted {
		s, had := w.slotOf[id]
		if !had {
			continue
		}
		copyMaps()
		structural = true
		delete(w.byUUID, w.providers[s].UUID)
		delete(w.slotOf, id)
		w.providers[s] = nil
		w.count--
	}
	if len(added) > 0 {
		structural = true
		w.add(added, copyMaps)
	}
	if x := v.idx.Load(); x != nil && !structural {
		// Only inventories, usage, generations, names or times changed: the indexes still hold.
		w.idx.Store(x)
	}
	return w
}

// add adds providers (sorted by id) that w does not have, keeping the slots in id order.
// Ids are assigned in creation order but, on PostgreSQL, can commit out of order: a
// provider can arrive after one with a larger id, and is then put in its place, so that a
// view iterates in id order whatever its history (and replicas agree on candidate order).
func (w *View) add(added []*Provider, copyMaps func()) {
	last := int64(0)
	for i := len(w.providers) - 1; i >= 0; i-- {
		if w.providers[i] != nil {
			last = w.providers[i].ID
			break
		}
	}
	w.count += len(added)
	if added[0].ID > last {
		copyMaps()
		for _, p := range added {
			s := int32(len(w.providers))
			w.providers = append(w.providers, p)
			w.slotOf[p.ID] = s
			w.byUUID[p.UUID] = s
		}
		return
	}
	// Merge, dropping the slots of deleted providers, and renumber every slot.
	merged := make([]*Provider, 0, w.count)
	i := 0
	for _, p := range w.providers {
		if p == nil {
			continue
		}
		for i < len(added) && added[i].ID < p.ID {
			merged = append(merged, added[i])
			i++
		}
		merged = append(merged, p)
	}
	merged = append(merged, added[i:]...)
	w.providers = merged
	w.slotOf = make(map[int64]int32, len(merged))
	w.byUUID = make(map[string]int32, len(merged))
	for s, p := range merged {
		w.slotOf[p.ID] = int32(s)
		w.byUUID[p.UUID] = int32(s)
	}
}

// Len is the number of providers.
func (v *View) Len() int { return v.count }

// Slots is the number of slots; Slot(i) for i < Slots() is a provider or nil.
func (v *View) Slots() int { return len(v.providers) }

// Slot returns the provider in slot i (nil if deleted).
func (v *View) Slot(i int32) *Provider { return v.providers[i] }

// SlotOf returns the slot of the provider id.
func (v *View) SlotOf(id int64) (int32, bool) { s, ok := v.slotOf[id]; return s, ok }

// Provider returns the provider with the UUID.
func (v *View) Provider(uuid string) (*Provider, bool) {
	s, ok := v.byUUID[uuid]
	if !ok {
		return nil, false
	}
	return v.providers[s], true
}

// ProviderByID returns the provider with the id.
func (v *View) ProviderByID(id int64) (*Provider, bool) {
	s, ok := v.slotOf[id]
	if !ok {
		return nil, false
	}
	return v.providers[s], true
}

// ProviderUUID returns the UUID of the provider id ("" if unknown).
func (v *View) ProviderUUID(id int64) string {
	if p, ok := v.ProviderByID(id); ok {
		return p.UUID
	}
	return ""
}

// Providers calls fn for every provider in creation (id) order until fn returns false.
func (v *View) Providers(fn func(*Provider) bool) {
	for _, p := range v.providers {
		if p != nil && !fn(p) {
			return
		}
	}
}

// Catalog returns the view's catalog of names. Successive views share it until a class or
// trait is created, renamed or deleted, so its identity tells whether names may differ.
func (v *View) Catalog() *Catalog { return v.catalog }

// ClassID returns the id of the resource class.
func (v *View) ClassID(name string) (int64, bool) { id, ok := v.catalog.ClassIDs[name]; return id, ok }

// ClassName returns the name of the class id.
func (v *View) ClassName(id int64) string { return v.catalog.ClassNames[id] }

// TraitID returns the id of the trait.
func (v *View) TraitID(name string) (int64, bool) { id, ok := v.catalog.TraitIDs[name]; return id, ok }

// TraitName returns the name of the trait id.
func (v *View) TraitName(id int64) string { return v.catalog.TraitNames[id] }
