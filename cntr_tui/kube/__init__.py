"""`kubectl cntr`: from a pod's name (through the API server, by the `kubectl` client)
to cntr-tui in a short-lived node debug pod on the pod's node, and back.

pod.py reads the API's answer for a pod, address.py turns a container's runtime id into
cntr-tui's `-t RUNTIME ID`, manifest.py writes the node debug pod, kubectl.py runs the
client, session.py creates, waits for, enters and deletes the debug pod.
"""
