package instanceapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"ingot/internal/uuid"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"ingot/internal/baremetal"
	"ingot/internal/placementapi"
	"ingot/internal/policy"
	"ingot/internal/reconcile"
	"ingot/internal/store"
)

// Limits of a create request.
const (
	// MaxBodyBytes bounds the body of a create: 1 MiB, room for the largest user data
	// with everything else.
	MaxBodyBytes = 1 << 20
	// MaxUserDataBytes bounds config_drive.user_data: 64 KiB, as Nova bounds user data.
	MaxUserDataBytes = 64 << 10
	// MaxNameBytes bounds the name, like other short strings (a resource class, a trait,
	// a key name, a meta_data key).
	MaxNameBytes = 255
	// maxListItems bounds each list and map of the request (traits, member_of groups and
	// their aggregates, keys, meta_data).
	maxListItems = 100
	// maxEcho bounds how much of a client's value an error message repeats.
	maxEcho = 128
)

// hashAlgos are the os_hash algorithms Ironic accepts.
var hashAlgos = []string{"md5", "sha1", "sha256", "sha512"}

var hexString = regexp.MustCompile(`^[0-9a-fA-F]+$`)

// create serves POST /v1/instances.
func (rq *request) create() error {
	project := rq.creds.ProjectID
	if err := rq.authorize(policy.InstanceCreate, project); err != nil {
		return err
	}
	if ct := rq.r.Header.Get("Content-Type"); !isJSON(ct) {
		return placementapi.StatusError(http.StatusUnsupportedMediaType,
			"The media type %q is not supported, use application/json.", placementapi.TruncateText(ct, maxEcho))
	}
	raw, err := io.ReadAll(http.MaxBytesReader(rq.w, rq.r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			rq.w.Header().Set("Connection", "close")
			return placementapi.StatusError(http.StatusRequestEntityTooLarge,
				"The request body is larger than the limit of %d bytes.", MaxBodyBytes)
		}
		return badRequest("Reading the request body: %s", err)
	}
	req, err := DecodeCreate(raw)
	if err != nil {
		return err
	}
	if req.Request.Node != "" {
		if err := rq.authorize(policy.InstanceCreateNodePin, project); err != nil {
			return err
		}
	}
	if err := rq.h.checkCatalog(rq, &req); err != nil {
		return err
	}
	if req.UUID == "" {
		req.UUID = uuid.New()
	}
	in := baremetal.Instance{
		UUID: req.UUID, Name: req.Name, ProjectID: project, UserID: rq.creds.UserID,
		Spec: baremetal.Spec{Request: req.Request, Image: req.Image, ConfigDrive: req.ConfigDrive},
	}
	in.SpecHash = store.SpecHash(in.Name, in.Spec)
	out, created, err := rq.h.db.CreateInstance(rq.ctx, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusAccepted
		rq.h.notify()
	}
	self := rq.url(Prefix + "/" + out.UUID)
	rq.w.Header().Set("Location", self)
	return rq.send(status, Wire(out, self, true))
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// checkCatalog checks what the request names against the store: the resource class and
// traits must be in the catalogue, a pinned node must have a provider.
func (h *Handler) checkCatalog(rq *request, req *CreateRequest) error {
	v, err := h.db.View(rq.ctx)
	if err != nil {
		return err
	}
	rc := reconcile.ResourceClass(req.Request.ResourceClass)
	if _, ok := v.ClassID(rc); !ok {
		return badRequest("Unknown resource class %q (resource class %s): no node offers it.",
			placementapi.TruncateText(req.Request.ResourceClass, maxEcho), placementapi.TruncateText(rc, maxEcho))
	}
	for _, t := range slices.Concat(req.Request.Required, req.Request.Forbidden) {
		if _, ok := v.TraitID(t); !ok {
			return badRequest("Unknown trait %q.", placementapi.TruncateText(t, maxEcho))
		}
	}
	if n := req.Request.Node; n != "" {
		if _, ok := v.Provider(n); !ok {
			return badRequest("Unknown node %s: no resource provider has its UUID.", n)
		}
	}
	return nil
}

// DecodeCreate decodes and checks a create request body, everything but what needs the
// store (see checkCatalog), and returns it normalized: UUIDs in canonical form, trait
// lists sorted without duplicates. A bad body is an error with status 400 whose detail
// says what is wrong.
func DecodeCreate(raw []byte) (CreateRequest, error) {
	var req CreateRequest
	if !utf8.Valid(raw) {
		return req, badRequest("Malformed JSON: the body is not valid UTF-8.")
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return req, badRequest("Malformed JSON: %s", jsonErrorText(err))
	}
	if _, ok := doc.(map[string]any); !ok {
		return req, badRequest("The body must be a JSON object.")
	}
	if p := placementapi.JSONTextProblem(doc); p != "" {
		return req, badRequest("Invalid body: a string contains %s.", p)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, badRequest("Invalid body: %s", jsonErrorText(err))
	}
	return req, req.normalize()
}

// jsonErrorText words an encoding/json error for a client.
func jsonErrorText(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := te.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("%s must be %s, not %s.", field, kindOf(te.Type.Kind().String()), te.Value)
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("%s (at byte %d).", se.Error(), se.Offset)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fmt.Sprintf("unknown field %s.", placementapi.TruncateText(f, maxEcho))
	}
	return msg
}

func kindOf(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "map", "struct":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a " + goKind
}

// normalize checks the fields one by one and puts them in canonical form.
func (req *CreateRequest) normalize() error {
	if req.UUID != "" {
		u, ok := placementapi.CanonicalUUID(req.UUID)
		if !ok {
			return badRequest("Invalid uuid %q: not a UUID.", placementapi.TruncateText(req.UUID, maxEcho))
		}
		req.UUID = u
	}
	if len(req.Name) > MaxNameBytes {
		return badRequest("Invalid name: longer than %d bytes.", MaxNameBytes)
	}
	if err := normalizeRequest(&req.Request); err != nil {
		return err
	}
	if err := checkImage(&req.Image); err != nil {
		return err
	}
	return checkConfigDrive(&req.ConfigDrive)
}

func checkShort(what, s string) error {
	if s == "" {
		return badRequest("Invalid %s: empty.", what)
	}
	if len(s) > MaxNameBytes {
		return badRequest("Invalid %s: longer than %d bytes.", what, MaxNameBytes)
	}
	return nil
}

// normalizeRequest checks the scheduling request: a resource class, trait names (sorted,
// without duplicates, none both required and forbidden), member_of groups of aggregate
// UUIDs and the node pin's UUID.
func normalizeRequest(r *baremetal.Request) error {
	if err := checkShort("request.resource_class", r.ResourceClass); err != nil {
		return err
	}
	for _, l := range []struct {
		what  string
		names *[]string
	}{{"request.required_traits", &r.Required}, {"request.forbidden_traits", &r.Forbidden}} {
		if len(*l.names) > maxListItems {
			return badRequest("Invalid %s: more than %d traits.", l.what, maxListItems)
		}
		for _, t := range *l.names {
			if err := checkShort(l.what+" item", t); err != nil {
				return err
			}
		}
		slices.Sort(*l.names)
		*l.names = slices.Compact(*l.names)
		if len(*l.names) == 0 {
			*l.names = nil
		}
	}
	for _, t := range r.Required {
		if _, found := slices.BinarySearch(r.Forbidden, t); found {
			return badRequest("Trait %q is both required and forbidden.", placementapi.TruncateText(t, maxEcho))
		}
	}
	if len(r.MemberOf) > maxListItems {
		return badRequest("Invalid request.member_of: more than %d groups.", maxListItems)
	}
	for i, group := range r.MemberOf {
		if len(group) == 0 {
			return badRequest("Invalid request.member_of: group %d is empty; each group is a list of aggregate UUIDs, one of which the node must be in.", i)
		}
		if len(group) > maxListItems {
			return badRequest("Invalid request.member_of: group %d has more than %d aggregates.", i, maxListItems)
		}
		for j, a := range group {
			u, ok := placementapi.CanonicalUUID(a)
			if !ok {
				return badRequest("Invalid request.member_of: %q is not an aggregate UUID.", placementapi.TruncateText(a, maxEcho))
			}
			group[j] = u
		}
		slices.Sort(group)
		r.MemberOf[i] = slices.Compact(group)
	}
	if len(r.MemberOf) == 0 {
		r.MemberOf = nil
	}
	if len(r.Capabilities) > maxListItems {
		return badRequest("Invalid request.capabilities: more than %d entries.", maxListItems)
	}
	for k, v := range r.Capabilities {
		if !capabilityName.MatchString(k) {
			return badRequest("Invalid request.capabilities: %q is not a capability name (lower-case letters, digits and _, at most 255).",
				placementapi.TruncateText(k, maxEcho))
		}
		// Ironic keeps capabilities as "name:value,name:value".
		if v == "" || len(v) > MaxNameBytes || strings.ContainsAny(v, ":,") {
			return badRequest("Invalid request.capabilities.%s: a non-empty value of at most %d bytes without ':' or ','.", k, MaxNameBytes)
		}
	}
	if len(r.Capabilities) == 0 {
		r.Capabilities = nil
	}
	if r.Node != "" {
		u, ok := placementapi.CanonicalUUID(r.Node)
		if !ok {
			return badRequest("Invalid request.node %q: not a node UUID.", placementapi.TruncateText(r.Node, maxEcho))
		}
		r.Node = u
	}
	return nil
}

// capabilityName is what Ironic's capabilities use as names.
var capabilityName = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)

// checkImage checks the image: a source (an http, https, file or oci URL, or a Glance
// image UUID) and a way to verify it, image_checksum or both os_hash fields.
func checkImage(im *baremetal.Image) error {
	if im.Source == "" {
		return badRequest("Invalid image: image_source is required.")
	}
	if len(im.Source) > 2048 {
		return badRequest("Invalid image.image_source: longer than 2048 bytes.")
	}
	if u, ok := placementapi.CanonicalUUID(im.Source); ok {
		im.Source = u
	} else {
		src, err := url.Parse(im.Source)
		if err != nil || !slices.Contains([]string{"http", "https", "file", "oci"}, src.Scheme) ||
			(src.Scheme != "file" && src.Host == "") {
			return badRequest("Invalid image.image_source %q: an http, https, file or oci URL, or a Glance image UUID.",
				placementapi.TruncateText(im.Source, maxEcho))
		}
	}
	if len(im.Checksum) > 2048 {
		return badRequest("Invalid image.image_checksum: longer than 2048 bytes.")
	}
	hasHash := im.OSHashAlgo != "" || im.OSHashValue != ""
	if hasHash {
		if !slices.Contains(hashAlgos, im.OSHashAlgo) {
			return badRequest("Invalid image.image_os_hash_algo %q: one of %s.",
				placementapi.TruncateText(im.OSHashAlgo, maxEcho), strings.Join(hashAlgos, ", "))
		}
		if !hexString.MatchString(im.OSHashValue) || len(im.OSHashValue) > 128 {
			return badRequest("Invalid image.image_os_hash_value: a hexadecimal digest is required with image_os_hash_algo.")
		}
	}
	if im.Checksum == "" && !hasHash {
		return badRequest("Invalid image: image_checksum, or image_os_hash_algo and image_os_hash_value, are required.")
	}
	return nil
}

// reservedMetaData are the meta_data keys ingot writes itself.
var reservedMetaData = []string{"uuid", "name", "hostname", "public_keys"}

// checkConfigDrive checks the config drive input: user data within MaxUserDataBytes,
// named public keys, meta_data entries that do not replace ingot's own, and network_data
// as a JSON object.
func checkConfigDrive(cd *baremetal.ConfigDrive) error {
	if len(cd.UserData) > MaxUserDataBytes {
		return badRequest("Invalid config_drive.user_data: %d bytes, more than the limit of %d.", len(cd.UserData), MaxUserDataBytes)
	}
	if len(cd.SSHKeys) > maxListItems {
		return badRequest("Invalid config_drive.public_keys: more than %d keys.", maxListItems)
	}
	for name, key := range cd.SSHKeys {
		if err := checkShort("config_drive.public_keys name", name); err != nil {
			return err
		}
		if key == "" || len(key) > 16<<10 {
			return badRequest("Invalid config_drive.public_keys[%q]: a public key of at most 16 KiB is required.",
				placementapi.TruncateText(name, maxEcho))
		}
	}
	if len(cd.SSHKeys) == 0 {
		cd.SSHKeys = nil
	}
	if len(cd.MetaData) > maxListItems {
		return badRequest("Invalid config_drive.meta_data: more than %d entries.", maxListItems)
	}
	for k, v := range cd.MetaData {
		if err := checkShort("config_drive.meta_data key", k); err != nil {
			return err
		}
		if slices.Contains(reservedMetaData, k) {
			return badRequest("Invalid config_drive.meta_data: %q is set by ingot.", k)
		}
		if len(v) > 16<<10 {
			return badRequest("Invalid config_drive.meta_data[%q]: longer than 16 KiB.", placementapi.TruncateText(k, maxEcho))
		}
	}
	if len(cd.MetaData) == 0 {
		cd.MetaData = nil
	}
	if nd := bytes.TrimSpace(cd.NetworkData); len(nd) > 0 {
		if string(nd) == "null" {
			cd.NetworkData = nil
		} else if nd[0] != '{' {
			return badRequest("Invalid config_drive.network_data: a JSON object is required.")
		} else {
			var compact bytes.Buffer
			if err := json.Compact(&compact, nd); err != nil {
				return badRequest("Invalid config_drive.network_data: %s", jsonErrorText(err))
			}
			cd.NetworkData = compact.Bytes()
		}
	}
	return nil
}
