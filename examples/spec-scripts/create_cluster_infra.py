# The spec's sample script (API §4.3), unchanged but for the server URL and the indentation of read_kube_config, which is broken in the spec.
# Run: python3 create_cluster_infra.py cluster-123 --config /path/to/kubeconfig
import os
import json
import argparse
import requests

# Constants
DEFAULT_KUBE_CONFIG_PATH = os.path.join(os.path.expanduser("~"), ".kube", "config")
API_URL = "http://localhost:5000/create-cluster-infra" # Replace with actual server URL

def read_kube_config(file_path):
  try:
    with open(file_path, "r") as f:
      return f.read()
  except Exception as e:
    print(f"Error reading Kubernetes config file: {e}")
    exit(1)

def create_cluster_infra(cluster_id, kube_config_data):
  payload = {
    "cluster_id": cluster_id,
    "kube_config_data": kube_config_data
  }
  response = requests.post(API_URL, json=payload)
  if response.status_code == 200:
    print("Cluster creation scheduled successfully:", response.json())
  else:
    print("Error creating cluster:", response.json())

def main():
  parser = argparse.ArgumentParser(description="Create Cluster Infrastructure via API")
  parser.add_argument("cluster_id", help="Cluster ID")
  parser.add_argument("--config", default=DEFAULT_KUBE_CONFIG_PATH,       help="Path to Kubernetes config file")

  args = parser.parse_args()
  kube_config_data = read_kube_config(args.config)
  create_cluster_infra(args.cluster_id, kube_config_data)

if __name__ == "__main__":
  main()

