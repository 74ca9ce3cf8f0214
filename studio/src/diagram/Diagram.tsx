export default function Diagram() {
  return <h1>Relationships</h1>;
}
