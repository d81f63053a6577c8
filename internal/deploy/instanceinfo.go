package deploy

import (
	"slices"
	"strings"

	"ingot/internal/baremetal"
	"ingot/internal/ironic"
)

// InstanceInfo returns the instance_info ingot writes before a deploy, as Nova's patcher
// does for a whole-disk image: image_source, the image's checksum (image_checksum, or
// image_os_hash_algo and image_os_hash_value), traits (the request's required traits that
// the node itself has: Ironic refuses others), capabilities (the request's, as Nova writes
// a flavor's capabilities:* extra specs), display_name, project_id and user_id. With
// automatic_lessee_source=instance, Ironic's default, project_id also becomes the node's
// lessee while deployed.
func InstanceInfo(in baremetal.Instance, node ironic.Node) ironic.InstanceInfo {
	img := in.Spec.Image
	info := ironic.InstanceInfo{
		ImageSource:   img.Source,
		ImageChecksum: img.Checksum,
		DisplayName:   in.Name,
		ProjectID:     in.ProjectID,
		UserID:        in.UserID,
		Capabilities:  in.Spec.Request.Capabilities,
	}
	if img.OSHashAlgo != "" && img.OSHashValue != "" {
		info.ImageOSHashAlgo, info.ImageOSHashValue = img.OSHashAlgo, img.OSHashValue
	}
	for _, t := range in.Spec.Request.Required {
		if slices.Contains(node.Traits, t) {
			info.Traits = append(info.Traits, t)
		}
	}
	return info
}

// ConfigDrive returns the config drive in Ironic's dict form (API 1.56), which Ironic
// builds into the ISO: meta_data with uuid, name, hostname, public_keys and project_id
// (and the creator's extra meta data under "meta", as Nova writes it), user_data as a
// string, and network_data when given.
func ConfigDrive(in baremetal.Instance) ironic.ConfigDrive {
	cd := in.Spec.ConfigDrive
	out := ironic.ConfigDrive{
		MetaData: ironic.MetaData{
			UUID:       in.UUID,
			Name:       in.Name,
			Hostname:   Hostname(in.Name, in.UUID),
			PublicKeys: cd.SSHKeys,
			ProjectID:  in.ProjectID,
			Meta:       cd.MetaData,
		},
		UserData: cd.UserData,
	}
	if len(cd.NetworkData) > 0 {
		out.NetworkData = cd.NetworkData
	}
	return out
}

// Hostname derives a host name from an instance's name as Nova's sanitize_hostname
// does, roughly: lower case, runs of characters other than a-z, 0-9, '.' and '-' become
// one '-', no leading or trailing '-' or '.', at most 63 characters. An empty result
// falls back to "instance-" and the first block of the UUID.
func Hostname(name, uuid string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	h := strings.Trim(b.String(), "-.")
	if len(h) > 63 {
		h = strings.Trim(h[:63], "-.")
	}
	if h == "" {
		first, _, _ := strings.Cut(uuid, "-")
		h = "instance-" + first
	}
	return h
}
