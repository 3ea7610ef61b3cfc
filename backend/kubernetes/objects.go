package kubernetes

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gantry-dev/gantry/rollout"
	"github.com/gantry-dev/gantry/spec"
)

// The labels and annotations gantry puts on what it creates.
const (
	// LabelApp, LabelEnv and LabelRevision name an object's app,
	// environment and revision number.
	LabelApp      = "gantry.dev/app"
	LabelEnv      = "gantry.dev/env"
	LabelRevision = "gantry.dev/revision"
	// LabelManagedBy marks every object gantry created (value ManagedBy);
	// gantry changes no object without it.
	LabelManagedBy = "gantry.dev/managed-by"
	// ManagedBy is LabelManagedBy's value.
	ManagedBy = "gantry"
	// AnnotationVersion holds the revision's version.
	AnnotationVersion = "gantry.dev/version"
	// AnnotationReplicas holds the replica count gantry last asked of a
	// ReplicaSet, so that a change by hand is seen even after a restart.
	AnnotationReplicas = "gantry.dev/replicas"
	// ContainerName is the name of the workload's container.
	ContainerName = "app"
)

// The plan's resources, used when the spec sets none.
var (
	defaultRequests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi"), corev1.ResourceCPU: resource.MustParse("250m")}
	defaultLimits   = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi"), corev1.ResourceCPU: resource.MustParse("500m")}
)

// envLabels selects everything gantry made for app in env.
func envLabels(app, env string) map[string]string {
	return map[string]string{LabelManagedBy: ManagedBy, LabelApp: app, LabelEnv: env}
}

// revisionLabels selects the pods of one revision.
func revisionLabels(app, env string, rev int) map[string]string {
	l := envLabels(app, env)
	l[LabelRevision] = strconv.Itoa(rev)
	return l
}

// objectName joins parts with '-' into a name of at most max characters;
// a longer one is cut and ends in a hash of the whole, so it stays unique.
func objectName(max int, parts ...string) string {
	n := parts[0]
	for _, p := range parts[1:] {
		n += "-" + p
	}
	if len(n) <= max {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(n))
	sum := fmt.Sprintf("%08x", h.Sum32())
	return n[:max-len(sum)-1] + "-" + sum
}

// OwnerName is the name of the ConfigMap that owns app's objects in env.
func OwnerName(app, env string) string { return objectName(63, "gantry", app, env) }

// ReplicaSetName is the name of a revision's ReplicaSet; pods add 6
// characters to it, within the 63 of a label value.
func ReplicaSetName(app, env string, rev int) string {
	return objectName(57, app, env, strconv.Itoa(rev))
}

// ownerConfigMap is the object every ReplicaSet of app in env belongs to.
func ownerConfigMap(ns, app, env string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: OwnerName(app, env), Namespace: ns, Labels: envLabels(app, env)},
		Data: map[string]string{
			"about": "gantry owns the ReplicaSets and Services of " + app + " in " + env + " through this object; deleting it deletes them.",
		},
	}
}

func ownerRef(owner *corev1.ConfigMap) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}
}

// errSecretByValue: a secret read by the gantry server would be written
// into the ReplicaSet, readable by anyone who can read it.
var errSecretByValue = errors.New("on kubernetes a secret is referenced with valueFrom.secretKeyRef (a Kubernetes Secret); secretFile and serverEnv would copy its value into the ReplicaSet")

// replicaSet builds the ReplicaSet of rev in namespace ns with replicas,
// owned by owner. An error wraps rollout.ErrCannotStart: the revision's
// workload cannot become a pod.
func replicaSet(ns string, rev rollout.Revision, replicas int, owner *corev1.ConfigMap) (*appsv1.ReplicaSet, error) {
	s := rev.Spec
	port := s.Workload.PortOrDefault()
	w, err := s.Workload.Render(spec.TemplateVars{Version: rev.Version, App: rev.App, Env: rev.Env, Port: port, Revision: rev.Number, Instance: "$(GANTRY_INSTANCE)"})
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w: %w", rev.Number, rollout.ErrCannotStart, err)
	}
	if w.Image == "" {
		return nil, fmt.Errorf("revision %d: %w: spec.workload.image is empty; set the container image, such as registry.example.com/app:{{.Version}}", rev.Number, rollout.ErrCannotStart)
	}
	env := []corev1.EnvVar{
		{Name: "GANTRY_INSTANCE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "GANTRY_VERSION", Value: rev.Version},
		{Name: "GANTRY_REVISION", Value: strconv.Itoa(rev.Number)},
	}
	for _, e := range w.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, corev1.EnvVar{Name: e.Name, Value: e.Value})
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			env = append(env, corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: r.Name}, Key: r.Key}}})
		default:
			return nil, fmt.Errorf("revision %d: env %s: %w: %w", rev.Number, e.Name, rollout.ErrCannotStart, errSecretByValue)
		}
	}
	res, err := resources(s.Resources)
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w: %w", rev.Number, rollout.ErrCannotStart, err)
	}
	grace := int64(s.GracePeriod().Seconds())
	container := corev1.Container{
		Name: ContainerName, Image: w.Image, Args: w.Args, Env: env, Resources: res,
		Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port), Protocol: corev1.ProtocolTCP}},
		LivenessProbe:  probe(s.LivenessProbe, port),
		ReadinessProbe: probe(s.ReadinessProbe, port),
	}
	podLabels := revisionLabels(rev.App, rev.Env, rev.Number)
	podAnnotations := map[string]string{}
	k := s.Kubernetes
	if k == nil {
		k = &spec.Kubernetes{}
	}
	maps.Copy(podAnnotations, k.Annotations)
	podAnnotations[AnnotationVersion] = rev.Version
	pod := corev1.PodSpec{
		Containers:                    []corev1.Container{container},
		TerminationGracePeriodSeconds: &grace,
		ServiceAccountName:            k.ServiceAccountName,
		NodeSelector:                  maps.Clone(k.NodeSelector),
		Tolerations:                   tolerations(k.Tolerations),
	}
	n := int32(replicas)
	labels := revisionLabels(rev.App, rev.Env, rev.Number)
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: ReplicaSetName(rev.App, rev.Env, rev.Number), Namespace: ns, Labels: labels,
			Annotations:     map[string]string{AnnotationVersion: rev.Version, AnnotationReplicas: strconv.Itoa(replicas)},
			OwnerReferences: []metav1.OwnerReference{ownerRef(owner)},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        &n,
			MinReadySeconds: int32(s.MinReadySeconds),
			Selector:        &metav1.LabelSelector{MatchLabels: revisionLabels(rev.App, rev.Env, rev.Number)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: podAnnotations},
				Spec:       pod,
			},
		},
	}, nil
}

// resources turns the spec's requests and limits into a container's,
// with the plan's values for those unset.
func resources(r spec.Resources) (corev1.ResourceRequirements, error) {
	out := corev1.ResourceRequirements{Requests: defaultRequests.DeepCopy(), Limits: defaultLimits.DeepCopy()}
	for _, q := range []struct {
		list  corev1.ResourceList
		name  corev1.ResourceName
		value string
	}{
		{out.Requests, corev1.ResourceMemory, r.Requests.Memory}, {out.Requests, corev1.ResourceCPU, r.Requests.CPU},
		{out.Limits, corev1.ResourceMemory, r.Limits.Memory}, {out.Limits, corev1.ResourceCPU, r.Limits.CPU},
	} {
		if q.value == "" {
			continue
		}
		v, err := resource.ParseQuantity(q.value)
		if err != nil {
			return out, fmt.Errorf("resources %s %q: %w", q.name, q.value, err)
		}
		q.list[q.name] = v
	}
	// A request above the default limit raises the limit with it.
	for name, req := range out.Requests {
		if lim, ok := out.Limits[name]; ok && req.Cmp(lim) > 0 {
			out.Limits[name] = req
		}
	}
	return out, nil
}

// probe turns a spec probe into a Kubernetes one on the workload's port
// unless it names another; nil stays nil.
func probe(p *spec.Probe, port int) *corev1.Probe {
	if p == nil || p.HTTPGet == nil {
		return nil
	}
	if p.HTTPGet.Port != 0 {
		port = p.HTTPGet.Port
	}
	scheme := corev1.URISchemeHTTP
	if p.HTTPGet.Scheme == "HTTPS" || p.HTTPGet.Scheme == "https" {
		scheme = corev1.URISchemeHTTPS
	}
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: p.HTTPGet.Path, Port: intstr.FromInt32(int32(port)), Scheme: scheme,
		}},
		InitialDelaySeconds: int32(p.InitialDelaySeconds), PeriodSeconds: int32(p.PeriodSeconds),
		TimeoutSeconds: int32(p.TimeoutSeconds), SuccessThreshold: int32(p.SuccessThreshold),
		FailureThreshold: int32(p.FailureThreshold),
	}
}

func tolerations(ts []spec.Toleration) []corev1.Toleration {
	var out []corev1.Toleration
	for _, t := range ts {
		out = append(out, corev1.Toleration{
			Key: t.Key, Operator: corev1.TolerationOperator(t.Operator), Value: t.Value,
			Effect: corev1.TaintEffect(t.Effect), TolerationSeconds: t.TolerationSeconds,
		})
	}
	return out
}
