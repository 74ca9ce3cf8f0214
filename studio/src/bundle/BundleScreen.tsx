export default function BundleScreen() {
  return <h1>Import / export</h1>;
}
