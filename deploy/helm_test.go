package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/assignd/assignd/policy"
)

// chartDir is the Helm chart, relative to this package.
var chartDir = filepath.Join("helm", "assignd")

// The release the tests render the chart as: named like the kustomize
// objects, so that the drift test compares like with like.
const (
	releaseName      = "assignd"
	releaseNamespace = "assignd"
)

// nonDefaultValues turns every switch of the chart away from its default.
func nonDefaultValues() map[string]any {
	return map[string]any{
		"image":          map[string]any{"tag": "0.2.0"},
		"publicBaseURL":  "https://callbacks.example.org",
		"policy":         map[string]any{"existingConfigMap": "my-policy", "key": "routing.yaml", "reload": false},
		"existingSecret": "twilio-prod",
		"extraEnv":       map[string]any{"ASSIGND_DECISION_MEMORY": "200000"},
		"route": map[string]any{
			"gateway": map[string]any{"enabled": false},
			"ingress": map[string]any{"enabled": true},
		},
		"monitoring": map[string]any{
			"podAnnotations": false,
			"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus-stack"}},
			"prometheusRule": map[string]any{"enabled": true},
		},
		"autoscaling":         map[string]any{"enabled": false},
		"replicaCount":        3,
		"podDisruptionBudget": map[string]any{"enabled": false},
		"networkPolicy":       map[string]any{"enabled": false},
	}
}

// renderChart renders the chart client-side, as `helm template` does,
// and decodes every manifest strictly into its typed object.
func renderChart(t *testing.T, vals map[string]any) (*rendered, map[string]string) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load %s: %v", chartDir, err)
	}
	top, err := util.ToRenderValues(chrt, vals, common.ReleaseOptions{Name: releaseName, Namespace: releaseNamespace, IsInstall: true}, nil)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	files, err := engine.Render(chrt, top)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r := &rendered{namespaceOf: map[string]string{}}
	names := slices.Sorted(mapKeys(files))
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, doc := range splitYAML([]byte(files[name])) {
			j, err := yaml.YAMLToJSON(doc)
			if err != nil {
				t.Fatalf("%s document %d: %v", name, i, err)
			}
			obj, err := decodeManifest(j)
			if err != nil {
				t.Fatalf("%s document %d does not decode strictly: %v", name, i, err)
			}
			if err := r.add(obj); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
	return r, files
}

// TestHelmChartLints runs Helm's linter over the chart with the default
// and the non-default values: no warning or error.
func TestHelmChartLints(t *testing.T) {
	for name, vals := range map[string]map[string]any{"defaults": nil, "non-defaults": nonDefaultValues()} {
		t.Run(name, func(t *testing.T) {
			res := lint.RunAll(chartDir, vals, releaseNamespace)
			for _, m := range res.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m.Error())
				} else {
					t.Logf("lint: %s", m.Error())
				}
			}
		})
	}
}

// TestHelmChartDefaults renders the default values: the objects of the
// kustomize base with the Gateway route, checked as the base is.
func TestHelmChartDefaults(t *testing.T) {
	r, files := renderChart(t, nil)
	for what, n := range map[string]int{
		"Deployment": len(r.deployments), "Service": len(r.services), "ConfigMap": len(r.configMaps),
		"HTTPRoute": len(r.httpRoutes), "HorizontalPodAutoscaler": len(r.hpas), "PodDisruptionBudget": len(r.pdbs),
		"NetworkPolicy": len(r.networkPolicies),
	} {
		if n != 1 {
			t.Errorf("%d %s, want 1", n, what)
		}
	}
	if n := len(r.ingresses) + len(r.serviceMonitors) + len(r.prometheusRules) + len(r.secrets) + len(r.namespaces); n != 0 {
		t.Errorf("%d optional objects (Ingress, ServiceMonitor, PrometheusRule, Secret, Namespace) by default", n)
	}
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	if d.Spec.Replicas != nil {
		t.Errorf("replicas %d beside the HorizontalPodAutoscaler", *d.Spec.Replicas)
	}
	for _, msg := range slices.Concat(securityProblems(d), imageProblems(d), envProblems(c, configVars())) {
		t.Error(msg)
	}
	svc := only(t, "Service", r.services)
	for _, msg := range httpRouteProblems(only(t, "HTTPRoute", r.httpRoutes), svc, c, 8080) {
		t.Error(msg)
	}
	cm := only(t, "ConfigMap", r.configMaps)
	if _, err := policy.Parse("policy.yaml", []byte(cm.Data["policy.yaml"])); err != nil {
		t.Errorf("the default inline policy: %v", err)
	}
	if _, ok := d.Spec.Template.Annotations["checksum/policy"]; ok {
		t.Error("live reload (the default) rolls the pods out on a policy change")
	}
	if !strings.Contains(files["assignd/templates/NOTES.txt"], "/taskrouter/assignment") {
		t.Error("NOTES.txt does not say where to point the Workflow")
	}
	t.Run("policy roll-out style", func(t *testing.T) {
		annotation := func(src string) string {
			r, _ := renderChart(t, map[string]any{"policy": map[string]any{"reload": false, "inline": src}})
			return only(t, "Deployment", r.deployments).Spec.Template.Annotations["checksum/policy"]
		}
		a, b := annotation("version: 1\nrules:\n  - name: a\n    instruction: reject\n"), annotation("version: 1\nrules:\n  - name: b\n    instruction: reject\n")
		if a == "" || a == b {
			t.Errorf("checksum/policy %q and %q: a policy change must change the pod template", a, b)
		}
	})
}

// TestHelmChartNonDefaults renders every switch turned.
func TestHelmChartNonDefaults(t *testing.T) {
	r, _ := renderChart(t, nonDefaultValues())
	d := only(t, "Deployment", r.deployments)
	c := assigndContainer(t, d)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 || len(r.hpas) != 0 {
		t.Errorf("replicas %v with %d HPAs; want 3 and none", d.Spec.Replicas, len(r.hpas))
	}
	if len(r.pdbs)+len(r.networkPolicies)+len(r.httpRoutes)+len(r.configMaps) != 0 {
		t.Error("a disabled PodDisruptionBudget, NetworkPolicy, HTTPRoute or the policy ConfigMap rendered")
	}
	if c.Image != "ghcr.io/assignd/assignd:0.2.0" {
		t.Errorf("image %q", c.Image)
	}
	for name, want := range map[string]string{
		"ASSIGND_PUBLIC_BASE_URL": "https://callbacks.example.org",
		"ASSIGND_POLICY_FILE":     "/etc/assignd/policy/routing.yaml",
		"ASSIGND_DECISION_MEMORY": "200000",
	} {
		if got := envValue(t, c, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, msg := range envProblems(c, configVars()) {
		t.Error(msg)
	}
	for _, e := range c.Env {
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil && ref.SecretKeyRef.Name != "twilio-prod" {
			t.Errorf("%s reads Secret %q", e.Name, ref.SecretKeyRef.Name)
		}
	}
	var mounted bool
	for _, v := range d.Spec.Template.Spec.Volumes {
		mounted = mounted || (v.ConfigMap != nil && v.ConfigMap.Name == "my-policy")
	}
	if !mounted {
		t.Error("the existing ConfigMap my-policy is not mounted")
	}
	if _, ok := d.Spec.Template.Annotations["prometheus.io/scrape"]; ok {
		t.Error("pod annotations for scraping though disabled")
	}
	svc := only(t, "Service", r.services)
	ing := only(t, "Ingress", r.ingresses)
	for _, msg := range ingressProblems(ing, svc, c, 8080) {
		t.Error(msg)
	}
	if ing.Spec.Rules[0].Host != "callbacks.example.org" {
		t.Errorf("Ingress host %q, want publicBaseURL's", ing.Spec.Rules[0].Host)
	}
	sm := only(t, "ServiceMonitor", r.serviceMonitors)
	if sm.Metadata.Labels["release"] != "kube-prometheus-stack" || !selects(sm.Spec.Selector.MatchLabels, svc.Labels) {
		t.Errorf("ServiceMonitor labels %v selector %v", sm.Metadata.Labels, sm.Spec.Selector.MatchLabels)
	}
	pr := only(t, "PrometheusRule", r.prometheusRules)
	if got, want := ruleGroupsJSON(t, pr.Spec.Groups), ruleGroupsJSON(t, rulesFileGroups(t)); got != want {
		t.Error("the chart's PrometheusRule does not hold deploy/prometheus/assignd-rules.yaml's groups")
	}
}

// deploymentEssentials is what must not differ between the chart's
// Deployment and the kustomize base's: how the process is started and
// configured, probed, confined, exposed and given its files.
type deploymentEssentials struct {
	Command, Args      []string
	Env                []corev1.EnvVar
	Ports              []corev1.ContainerPort
	Readiness          *corev1.Probe
	Liveness           *corev1.Probe
	Resources          corev1.ResourceRequirements
	SecurityContext    *corev1.SecurityContext
	PodSecurityContext *corev1.PodSecurityContext
	VolumeMounts       []corev1.VolumeMount
	Volumes            []corev1.Volume
	GracePeriod        *int64
	AutomountToken     *bool
	Strategy           appsv1.DeploymentStrategy
	Replicas           *int32
}

// essentials extracts deploymentEssentials, with the policy ConfigMap's
// name (release- or hash-dependent) blanked.
func essentials(t *testing.T, d *appsv1.Deployment) deploymentEssentials {
	t.Helper()
	d = d.DeepCopy()
	c := assigndContainer(t, d)
	pod := &d.Spec.Template.Spec
	for i := range pod.Volumes {
		if cm := pod.Volumes[i].ConfigMap; cm != nil {
			cm.Name = "<policy>"
		}
	}
	return deploymentEssentials{
		Command: c.Command, Args: c.Args, Env: c.Env, Ports: c.Ports,
		Readiness: c.ReadinessProbe, Liveness: c.LivenessProbe, Resources: c.Resources,
		SecurityContext: c.SecurityContext, PodSecurityContext: pod.SecurityContext,
		VolumeMounts: c.VolumeMounts, Volumes: pod.Volumes,
		GracePeriod: pod.TerminationGracePeriodSeconds, AutomountToken: pod.AutomountServiceAccountToken,
		Strategy: d.Spec.Strategy, Replicas: d.Spec.Replicas,
	}
}

// TestHelmDeploymentMatchesKustomize holds the chart's default Deployment
// equal to the kustomize base's where it matters, so that the two ways to
// install cannot drift apart.
func TestHelmDeploymentMatchesKustomize(t *testing.T) {
	r, _ := renderChart(t, nil)
	helmD := essentials(t, only(t, "Deployment", r.deployments))
	kustD := essentials(t, only(t, "Deployment", render(t, baseDir).deployments))
	hv, kv := reflect.ValueOf(helmD), reflect.ValueOf(kustD)
	for i := range hv.NumField() {
		name := hv.Type().Field(i).Name
		if !reflect.DeepEqual(hv.Field(i).Interface(), kv.Field(i).Interface()) {
			hj, _ := json.Marshal(hv.Field(i).Interface())
			kj, _ := json.Marshal(kv.Field(i).Interface())
			t.Errorf("%s differs:\nhelm:      %s\nkustomize: %s", name, hj, kj)
		}
	}
	t.Run("the comparison can fail", func(t *testing.T) {
		d := only(t, "Deployment", r.deployments).DeepCopy()
		d.Spec.Template.Spec.Containers[0].Env[0].Value = "https://other.example.com"
		if reflect.DeepEqual(essentials(t, d), kustD) {
			t.Fatal("a changed env value went unnoticed")
		}
	})
	t.Run("service and autoscaling", func(t *testing.T) {
		hs, ks := only(t, "Service", r.services), only(t, "Service", render(t, baseDir).services)
		if !reflect.DeepEqual(hs.Spec.Ports, ks.Spec.Ports) {
			t.Errorf("Service ports differ: %v and %v", hs.Spec.Ports, ks.Spec.Ports)
		}
		hh, kh := only(t, "HPA", r.hpas), only(t, "HPA", render(t, baseDir).hpas)
		if !reflect.DeepEqual(hh.Spec, kh.Spec) {
			t.Errorf("HPA specs differ: %+v and %+v", hh.Spec, kh.Spec)
		}
	})
}

// TestHelmChartFiles checks the files the chart carries that have a
// source elsewhere: the alerts and the default policy.
func TestHelmChartFiles(t *testing.T) {
	want, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(chartDir, "files", "assignd-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s: copy it", filepath.Join(chartDir, "files", "assignd-rules.yaml"), rulesFile)
	}
	r, _ := renderChart(t, nil)
	base, err := os.ReadFile(filepath.Join(baseDir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := only(t, "ConfigMap", r.configMaps).Data["policy.yaml"]; got != string(base) {
		t.Errorf("the chart's default policy differs from %s", filepath.Join(baseDir, "policy.yaml"))
	}
	var keys []string
	for k := range only(t, "ConfigMap", r.configMaps).Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"policy.yaml"}) {
		t.Errorf("ConfigMap keys %v", keys)
	}
}
